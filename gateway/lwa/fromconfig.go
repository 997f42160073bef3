package lwa

import (
	"log/slog"

	"github.com/avshub/avshub/gateway/config"
)

// FromConfig builds the Config for the hub's configuration: client id and
// secret, LWA URL and CA file, refresh head start, product id, serial number
// and data directory.
func FromConfig(c *config.Config, logger *slog.Logger) (Config, error) {
	client, err := HTTPClientWithCA(c.LWA.CAFile)
	if err != nil {
		return Config{}, err
	}
	return Config{
		ClientID:         c.LWA.ClientID,
		ClientSecret:     c.LWA.ClientSecret,
		ProductID:        c.Hub.ProductID,
		SerialNumber:     c.Hub.SerialNumber,
		DataDir:          c.Hub.DataDir,
		BaseURL:          c.LWA.URL,
		HTTPClient:       client,
		RefreshHeadStart: c.LWA.RefreshHeadStart,
		Logger:           logger,
	}, nil
}
