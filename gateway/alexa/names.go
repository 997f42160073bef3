package alexa

import (
	"fmt"
	"slices"
	"strings"

	"github.com/avshub/avshub/discovery/model"
)

// label is one friendlyNames entry: an asset from Alexa's global catalog or a
// text in a locale.
type label struct {
	Type  string     `json:"@type"`
	Value labelValue `json:"value"`
}

type labelValue struct {
	AssetID string `json:"assetId,omitempty"`
	Text    string `json:"text,omitempty"`
	Locale  string `json:"locale,omitempty"`
}

type resources struct {
	FriendlyNames []label `json:"friendlyNames"`
}

// Asset ids from Alexa's global catalog used by the avs profile. The catalog
// has no asset for brightness or colour, so those get text names only.
const (
	assetSettingTemperature = "Alexa.Setting.Temperature"
	assetSettingMode        = "Alexa.Setting.Mode"
	assetSettingPreset      = "Alexa.Setting.Preset"
	assetSettingHeat        = "Alexa.Setting.Heat"
	assetSettingAuto        = "Alexa.Setting.Auto"
	assetValueMaximum       = "Alexa.Value.Maximum"
	assetValueMinimum       = "Alexa.Value.Minimum"
	assetSettingOpening     = "Alexa.Setting.Opening"
	assetSettingFanSpeed    = "Alexa.Setting.FanSpeed"
	assetValueOpen          = "Alexa.Value.Open"
	assetValueClose         = "Alexa.Value.Close"
	assetValueLow           = "Alexa.Value.Low"
	assetValueMedium        = "Alexa.Value.Medium"
	assetValueHigh          = "Alexa.Value.High"
)

// text keys of the built-in translations.
type textKey string

const (
	txtBrightness        textKey = "brightness"
	txtColor             textKey = "color"
	txtColorTemperature  textKey = "colorTemperature"
	txtWarmWhite         textKey = "warmWhite"
	txtSoftWhite         textKey = "softWhite"
	txtNeutralWhite      textKey = "neutralWhite"
	txtDaylight          textKey = "daylight"
	txtRed               textKey = "red"
	txtOrange            textKey = "orange"
	txtYellow            textKey = "yellow"
	txtGreen             textKey = "green"
	txtCyan              textKey = "cyan"
	txtBlue              textKey = "blue"
	txtPurple            textKey = "purple"
	txtMagenta           textKey = "magenta"
	txtPink              textKey = "pink"
	txtWhite             textKey = "white"
	txtLock              textKey = "lock"
	txtLocked            textKey = "locked"
	txtUnlocked          textKey = "unlocked"
	txtJammed            textKey = "jammed"
	txtThermostatMode    textKey = "thermostatMode"
	txtHeat              textKey = "heat"
	txtCool              textKey = "cool"
	txtAuto              textKey = "auto"
	txtEco               textKey = "eco"
	txtOff               textKey = "off"
	txtTargetTemp        textKey = "targetTemperature"
	txtLowerTemp         textKey = "lowerTemperature"
	txtUpperTemp         textKey = "upperTemperature"
	txtCurrentTemp       textKey = "currentTemperature"
	txtComfort           textKey = "comfort"
	txtPosition          textKey = "position"
	txtTilt              textKey = "tilt"
	txtSlats             textKey = "slats"
	txtOpen              textKey = "open"
	txtClosed            textKey = "closed"
	txtContact           textKey = "contact"
	txtMotion            textKey = "motion"
	txtMotionDetected    textKey = "motionDetected"
	txtNoMotion          textKey = "noMotion"
	txtWaterLeak         textKey = "waterLeak"
	txtLeakDetected      textKey = "leakDetected"
	txtDry               textKey = "dry"
	txtSmoke             textKey = "smoke"
	txtSmokeDetected     textKey = "smokeDetected"
	txtGas               textKey = "gas"
	txtGasDetected       textKey = "gasDetected"
	txtTamper            textKey = "tamper"
	txtTampered          textKey = "tampered"
	txtClear             textKey = "clear"
	txtHumidity          textKey = "humidity"
	txtIlluminance       textKey = "illuminance"
	txtPower             textKey = "power"
	txtEnergy            textKey = "energy"
	txtBattery           textKey = "battery"
	txtFanSpeed          textKey = "fanSpeed"
	txtHigh              textKey = "high"
	txtMedium            textKey = "medium"
	txtLow               textKey = "low"
	txtSiren             textKey = "siren"
	txtCO2               textKey = "co2"
	txtPM1               textKey = "pm1"
	txtPM25              textKey = "pm25"
	txtPM10              textKey = "pm10"
	txtVOC               textKey = "voc"
	txtFormaldehyde      textKey = "formaldehyde"
	txtAirQualityIndex   textKey = "airQualityIndex"
	txtPressure          textKey = "pressure"
	txtSoilMoisture      textKey = "soilMoisture"
	txtFlow              textKey = "flow"
	txtVibration         textKey = "vibration"
	txtVibrationDetected textKey = "vibrationDetected"
	txtNoVibration       textKey = "noVibration"
	txtSOS               textKey = "sos"
	txtSOSPressed        textKey = "sosPressed"
	txtRain              textKey = "rain"
	txtRainDetected      textKey = "rainDetected"
	txtNoRain            textKey = "noRain"
	txtHeatAlarm         textKey = "heatAlarm"
	txtHeatDetected      textKey = "heatDetected"
	txtLiquidLevel       textKey = "liquidLevel"
	txtGasMeter          textKey = "gasMeter"
)

// quantityText is the friendly name of each measured quantity (model.Quantities).
var quantityText = map[string]textKey{
	model.QuantityCO2: txtCO2, model.QuantityPM1: txtPM1, model.QuantityPM25: txtPM25, model.QuantityPM10: txtPM10,
	model.QuantityVOC: txtVOC, model.QuantityVOCDensity: txtVOC, model.QuantityFormaldehyde: txtFormaldehyde,
	model.QuantityAQI: txtAirQualityIndex, model.QuantityPressure: txtPressure, model.QuantitySoilMoisture: txtSoilMoisture,
	model.QuantityFlow: txtFlow, model.QuantityLiquidLevel: txtLiquidLevel, model.QuantityGasVolume: txtGasMeter,
}

// translations holds each built-in text per language (or per locale where a
// locale differs from its language, e.g. en-GB "Colour").
var translations = map[textKey]map[string]string{
	txtBrightness:        {"en": "Brightness", "de": "Helligkeit", "fr": "Luminosité", "es": "Brillo", "it": "Luminosità", "pt": "Brilho", "ja": "明るさ"},
	txtColor:             {"en": "Color", "en-GB": "Colour", "en-AU": "Colour", "en-IN": "Colour", "en-CA": "Colour", "de": "Farbe", "fr": "Couleur", "es": "Color", "it": "Colore", "pt": "Cor", "ja": "色"},
	txtColorTemperature:  {"en": "Color temperature", "en-GB": "Colour temperature", "en-AU": "Colour temperature", "en-IN": "Colour temperature", "en-CA": "Colour temperature", "de": "Farbtemperatur", "fr": "Température de couleur", "es": "Temperatura de color", "it": "Temperatura colore", "pt": "Temperatura de cor", "ja": "色温度"},
	txtWarmWhite:         {"en": "Warm white", "de": "Warmweiß", "fr": "Blanc chaud", "es": "Blanco cálido", "it": "Bianco caldo", "pt": "Branco quente", "ja": "電球色"},
	txtSoftWhite:         {"en": "Soft white", "de": "Sanftweiß", "fr": "Blanc doux", "es": "Blanco suave", "it": "Bianco morbido", "pt": "Branco suave", "ja": "温白色"},
	txtNeutralWhite:      {"en": "Neutral white", "de": "Neutralweiß", "fr": "Blanc neutre", "es": "Blanco neutro", "it": "Bianco neutro", "pt": "Branco neutro", "ja": "白色"},
	txtDaylight:          {"en": "Daylight", "de": "Tageslicht", "fr": "Lumière du jour", "es": "Luz de día", "it": "Luce diurna", "pt": "Luz do dia", "ja": "昼光色"},
	txtRed:               {"en": "Red", "de": "Rot", "fr": "Rouge", "es": "Rojo", "it": "Rosso", "pt": "Vermelho", "ja": "赤"},
	txtOrange:            {"en": "Orange", "de": "Orange", "fr": "Orange", "es": "Naranja", "it": "Arancione", "pt": "Laranja", "ja": "オレンジ"},
	txtYellow:            {"en": "Yellow", "de": "Gelb", "fr": "Jaune", "es": "Amarillo", "it": "Giallo", "pt": "Amarelo", "ja": "黄色"},
	txtGreen:             {"en": "Green", "de": "Grün", "fr": "Vert", "es": "Verde", "it": "Verde", "pt": "Verde", "ja": "緑"},
	txtCyan:              {"en": "Cyan", "de": "Cyan", "fr": "Cyan", "es": "Cian", "it": "Ciano", "pt": "Ciano", "ja": "シアン"},
	txtBlue:              {"en": "Blue", "de": "Blau", "fr": "Bleu", "es": "Azul", "it": "Blu", "pt": "Azul", "ja": "青"},
	txtPurple:            {"en": "Purple", "de": "Lila", "fr": "Violet", "es": "Morado", "it": "Viola", "pt": "Roxo", "ja": "紫"},
	txtMagenta:           {"en": "Magenta", "de": "Magenta", "fr": "Magenta", "es": "Magenta", "it": "Magenta", "pt": "Magenta", "ja": "マゼンタ"},
	txtPink:              {"en": "Pink", "de": "Rosa", "fr": "Rose", "es": "Rosa", "it": "Rosa", "pt": "Rosa", "ja": "ピンク"},
	txtWhite:             {"en": "White", "de": "Weiß", "fr": "Blanc", "es": "Blanco", "it": "Bianco", "pt": "Branco", "ja": "白"},
	txtLock:              {"en": "Lock", "de": "Schloss", "fr": "Serrure", "es": "Cerradura", "it": "Serratura", "pt": "Fechadura", "ja": "ロック"},
	txtLocked:            {"en": "Locked", "de": "Verriegelt", "fr": "Verrouillé", "es": "Bloqueado", "it": "Bloccato", "pt": "Trancado", "ja": "施錠"},
	txtUnlocked:          {"en": "Unlocked", "de": "Entriegelt", "fr": "Déverrouillé", "es": "Desbloqueado", "it": "Sbloccato", "pt": "Destrancado", "ja": "解錠"},
	txtJammed:            {"en": "Jammed", "de": "Blockiert", "fr": "Bloqué", "es": "Atascado", "it": "Inceppato", "pt": "Emperrado", "ja": "動作不良"},
	txtThermostatMode:    {"en": "Thermostat mode", "de": "Thermostatmodus", "fr": "Mode du thermostat", "es": "Modo del termostato", "it": "Modalità termostato", "pt": "Modo do termostato", "ja": "サーモスタットモード"},
	txtHeat:              {"en": "Heat", "de": "Heizen", "fr": "Chauffage", "es": "Calor", "it": "Riscaldamento", "pt": "Aquecimento", "ja": "暖房"},
	txtCool:              {"en": "Cool", "de": "Kühlen", "fr": "Climatisation", "es": "Frío", "it": "Raffreddamento", "pt": "Resfriamento", "ja": "冷房"},
	txtAuto:              {"en": "Auto", "de": "Automatisch", "fr": "Automatique", "es": "Automático", "it": "Automatico", "pt": "Automático", "ja": "自動"},
	txtEco:               {"en": "Eco", "de": "Eco", "fr": "Éco", "es": "Eco", "it": "Eco", "pt": "Eco", "ja": "エコ"},
	txtOff:               {"en": "Off", "de": "Aus", "fr": "Arrêt", "es": "Apagado", "it": "Spento", "pt": "Desligado", "ja": "オフ"},
	txtTargetTemp:        {"en": "Target temperature", "de": "Solltemperatur", "fr": "Température de consigne", "es": "Temperatura objetivo", "it": "Temperatura impostata", "pt": "Temperatura desejada", "ja": "設定温度"},
	txtLowerTemp:         {"en": "Heating temperature", "de": "Heiztemperatur", "fr": "Température de chauffage", "es": "Temperatura de calefacción", "it": "Temperatura di riscaldamento", "pt": "Temperatura de aquecimento", "ja": "暖房温度"},
	txtUpperTemp:         {"en": "Cooling temperature", "de": "Kühltemperatur", "fr": "Température de climatisation", "es": "Temperatura de refrigeración", "it": "Temperatura di raffreddamento", "pt": "Temperatura de resfriamento", "ja": "冷房温度"},
	txtCurrentTemp:       {"en": "Current temperature", "de": "Aktuelle Temperatur", "fr": "Température actuelle", "es": "Temperatura actual", "it": "Temperatura attuale", "pt": "Temperatura atual", "ja": "現在の温度"},
	txtComfort:           {"en": "Comfort", "de": "Komfort", "fr": "Confort", "es": "Confort", "it": "Comfort", "pt": "Conforto", "ja": "快適"},
	txtPosition:          {"en": "Position", "de": "Position", "fr": "Position", "es": "Posición", "it": "Posizione", "pt": "Posição", "ja": "位置"},
	txtTilt:              {"en": "Tilt", "de": "Neigung", "fr": "Inclinaison", "es": "Inclinación", "it": "Inclinazione", "pt": "Inclinação", "ja": "角度"},
	txtSlats:             {"en": "Slats", "de": "Lamellen", "fr": "Lamelles", "es": "Lamas", "it": "Lamelle", "pt": "Lâminas", "ja": "羽根"},
	txtOpen:              {"en": "Open", "de": "Offen", "fr": "Ouvert", "es": "Abierto", "it": "Aperto", "pt": "Aberto", "ja": "開"},
	txtClosed:            {"en": "Closed", "de": "Geschlossen", "fr": "Fermé", "es": "Cerrado", "it": "Chiuso", "pt": "Fechado", "ja": "閉"},
	txtContact:           {"en": "Contact", "de": "Kontakt", "fr": "Contact", "es": "Contacto", "it": "Contatto", "pt": "Contato", "ja": "開閉"},
	txtMotion:            {"en": "Motion", "de": "Bewegung", "fr": "Mouvement", "es": "Movimiento", "it": "Movimento", "pt": "Movimento", "ja": "動き"},
	txtMotionDetected:    {"en": "Motion detected", "de": "Bewegung erkannt", "fr": "Mouvement détecté", "es": "Movimiento detectado", "it": "Movimento rilevato", "pt": "Movimento detectado", "ja": "動きあり"},
	txtNoMotion:          {"en": "No motion", "de": "Keine Bewegung", "fr": "Aucun mouvement", "es": "Sin movimiento", "it": "Nessun movimento", "pt": "Sem movimento", "ja": "動きなし"},
	txtWaterLeak:         {"en": "Water leak", "de": "Wasserleck", "fr": "Fuite d'eau", "es": "Fuga de agua", "it": "Perdita d'acqua", "pt": "Vazamento de água", "ja": "水漏れ"},
	txtLeakDetected:      {"en": "Leak detected", "de": "Leck erkannt", "fr": "Fuite détectée", "es": "Fuga detectada", "it": "Perdita rilevata", "pt": "Vazamento detectado", "ja": "水漏れあり"},
	txtDry:               {"en": "Dry", "de": "Trocken", "fr": "Sec", "es": "Seco", "it": "Asciutto", "pt": "Seco", "ja": "乾燥"},
	txtSmoke:             {"en": "Smoke", "de": "Rauch", "fr": "Fumée", "es": "Humo", "it": "Fumo", "pt": "Fumaça", "ja": "煙"},
	txtSmokeDetected:     {"en": "Smoke detected", "de": "Rauch erkannt", "fr": "Fumée détectée", "es": "Humo detectado", "it": "Fumo rilevato", "pt": "Fumaça detectada", "ja": "煙を検知"},
	txtGas:               {"en": "Gas", "de": "Gas", "fr": "Gaz", "es": "Gas", "it": "Gas", "pt": "Gás", "ja": "ガス"},
	txtGasDetected:       {"en": "Gas detected", "de": "Gas erkannt", "fr": "Gaz détecté", "es": "Gas detectado", "it": "Gas rilevato", "pt": "Gás detectado", "ja": "ガスを検知"},
	txtTamper:            {"en": "Tamper", "de": "Sabotage", "fr": "Sabotage", "es": "Manipulación", "it": "Manomissione", "pt": "Violação", "ja": "いたずら"},
	txtTampered:          {"en": "Tampered", "de": "Sabotiert", "fr": "Saboté", "es": "Manipulado", "it": "Manomesso", "pt": "Violado", "ja": "いたずら検知"},
	txtClear:             {"en": "Clear", "de": "Normal", "fr": "Normal", "es": "Normal", "it": "Normale", "pt": "Normal", "ja": "正常"},
	txtHumidity:          {"en": "Humidity", "de": "Luftfeuchtigkeit", "fr": "Humidité", "es": "Humedad", "it": "Umidità", "pt": "Umidade", "ja": "湿度"},
	txtIlluminance:       {"en": "Illuminance", "de": "Beleuchtungsstärke", "fr": "Luminosité ambiante", "es": "Iluminancia", "it": "Illuminamento", "pt": "Iluminância", "ja": "照度"},
	txtPower:             {"en": "Power", "de": "Leistung", "fr": "Puissance", "es": "Potencia", "it": "Potenza", "pt": "Potência", "ja": "電力"},
	txtEnergy:            {"en": "Energy", "de": "Energie", "fr": "Énergie", "es": "Energía", "it": "Energia", "pt": "Energia", "ja": "電力量"},
	txtBattery:           {"en": "Battery", "de": "Batterie", "fr": "Batterie", "es": "Batería", "it": "Batteria", "pt": "Bateria", "ja": "バッテリー"},
	txtFanSpeed:          {"en": "Fan speed", "de": "Lüftergeschwindigkeit", "fr": "Vitesse du ventilateur", "es": "Velocidad del ventilador", "it": "Velocità della ventola", "pt": "Velocidade do ventilador", "ja": "風量"},
	txtHigh:              {"en": "High", "de": "Hoch", "fr": "Élevée", "es": "Alta", "it": "Alta", "pt": "Alta", "ja": "強"},
	txtMedium:            {"en": "Medium", "de": "Mittel", "fr": "Moyenne", "es": "Media", "it": "Media", "pt": "Média", "ja": "中"},
	txtLow:               {"en": "Low", "de": "Niedrig", "fr": "Faible", "es": "Baja", "it": "Bassa", "pt": "Baixa", "ja": "弱"},
	txtSiren:             {"en": "Siren", "de": "Sirene", "fr": "Sirène", "es": "Sirena", "it": "Sirena", "pt": "Sirene", "ja": "サイレン"},
	txtCO2:               {"en": "Carbon dioxide", "de": "Kohlendioxid", "fr": "Dioxyde de carbone", "es": "Dióxido de carbono", "it": "Anidride carbonica", "pt": "Dióxido de carbono", "ja": "二酸化炭素"},
	txtPM1:               {"en": "PM1", "de": "Feinstaub PM1", "fr": "Particules PM1", "es": "Partículas PM1", "it": "Particolato PM1", "pt": "Partículas PM1", "ja": "PM1"},
	txtPM25:              {"en": "PM2.5", "de": "Feinstaub", "fr": "Particules fines", "es": "Partículas finas", "it": "Polveri sottili", "pt": "Partículas finas", "ja": "PM2.5"},
	txtPM10:              {"en": "PM10", "de": "Feinstaub PM10", "fr": "Particules PM10", "es": "Partículas PM10", "it": "Particolato PM10", "pt": "Partículas PM10", "ja": "PM10"},
	txtVOC:               {"en": "Volatile organic compounds", "de": "Flüchtige organische Verbindungen", "fr": "Composés organiques volatils", "es": "Compuestos orgánicos volátiles", "it": "Composti organici volatili", "pt": "Compostos orgânicos voláteis", "ja": "揮発性有機化合物"},
	txtFormaldehyde:      {"en": "Formaldehyde", "de": "Formaldehyd", "fr": "Formaldéhyde", "es": "Formaldehído", "it": "Formaldeide", "pt": "Formaldeído", "ja": "ホルムアルデヒド"},
	txtAirQualityIndex:   {"en": "Air quality", "de": "Luftqualität", "fr": "Qualité de l'air", "es": "Calidad del aire", "it": "Qualità dell'aria", "pt": "Qualidade do ar", "ja": "空気質"},
	txtPressure:          {"en": "Pressure", "de": "Druck", "fr": "Pression", "es": "Presión", "it": "Pressione", "pt": "Pressão", "ja": "圧力"},
	txtSoilMoisture:      {"en": "Soil moisture", "de": "Bodenfeuchtigkeit", "fr": "Humidité du sol", "es": "Humedad del suelo", "it": "Umidità del terreno", "pt": "Umidade do solo", "ja": "土壌水分"},
	txtVibration:         {"en": "Vibration", "de": "Vibration", "fr": "Vibration", "es": "Vibración", "it": "Vibrazione", "pt": "Vibração", "ja": "振動"},
	txtVibrationDetected: {"en": "Vibration detected", "de": "Vibration erkannt", "fr": "Vibration détectée", "es": "Vibración detectada", "it": "Vibrazione rilevata", "pt": "Vibração detectada", "ja": "振動あり"},
	txtNoVibration:       {"en": "No vibration", "de": "Keine Vibration", "fr": "Aucune vibration", "es": "Sin vibración", "it": "Nessuna vibrazione", "pt": "Sem vibração", "ja": "振動なし"},
	txtSOS:               {"en": "Emergency", "de": "Notruf", "fr": "Urgence", "es": "Emergencia", "it": "Emergenza", "pt": "Emergência", "ja": "緊急"},
	txtSOSPressed:        {"en": "Emergency call", "de": "Notruf ausgelöst", "fr": "Appel d'urgence", "es": "Llamada de emergencia", "it": "Chiamata di emergenza", "pt": "Chamada de emergência", "ja": "緊急通報"},
	txtRain:              {"en": "Rain", "de": "Regen", "fr": "Pluie", "es": "Lluvia", "it": "Pioggia", "pt": "Chuva", "ja": "雨"},
	txtRainDetected:      {"en": "Rain detected", "de": "Regen erkannt", "fr": "Pluie détectée", "es": "Lluvia detectada", "it": "Pioggia rilevata", "pt": "Chuva detectada", "ja": "雨を検知"},
	txtNoRain:            {"en": "No rain", "de": "Kein Regen", "fr": "Pas de pluie", "es": "Sin lluvia", "it": "Nessuna pioggia", "pt": "Sem chuva", "ja": "雨なし"},
	txtHeatAlarm:         {"en": "Heat alarm", "de": "Hitzealarm", "fr": "Alarme de chaleur", "es": "Alarma de calor", "it": "Allarme calore", "pt": "Alarme de calor", "ja": "熱警報"},
	txtHeatDetected:      {"en": "Heat detected", "de": "Hitze erkannt", "fr": "Chaleur détectée", "es": "Calor detectado", "it": "Calore rilevato", "pt": "Calor detectado", "ja": "熱を検知"},
	txtLiquidLevel:       {"en": "Liquid level", "de": "Füllstand", "fr": "Niveau de liquide", "es": "Nivel de líquido", "it": "Livello del liquido", "pt": "Nível de líquido", "ja": "液位"},
	txtGasMeter:          {"en": "Gas meter", "de": "Gaszähler", "fr": "Compteur de gaz", "es": "Contador de gas", "it": "Contatore del gas", "pt": "Contador de gás", "ja": "ガスメーター"},
	txtFlow:              {"en": "Flow", "de": "Durchfluss", "fr": "Débit", "es": "Caudal", "it": "Portata", "pt": "Vazão", "ja": "流量"},
}

// SupportedLocales lists the locales the built-in friendly names are
// translated for (Alexa's smart-home locales in English, German, French,
// Spanish, Italian, Portuguese and Japanese).
var SupportedLocales = []string{
	"de-DE", "en-AU", "en-CA", "en-GB", "en-IN", "en-US", "es-ES", "es-MX", "es-US",
	"fr-CA", "fr-FR", "it-IT", "ja-JP", "pt-BR",
}

// checkLocales canonicalizes the configured locales ("en_us" is "en-US"),
// drops repeats and refuses unsupported ones; none means en-US.
func checkLocales(locales []string) ([]string, error) {
	if len(locales) == 0 {
		return []string{"en-US"}, nil
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range locales {
		i := slices.IndexFunc(SupportedLocales, func(s string) bool { return strings.EqualFold(s, strings.ReplaceAll(l, "_", "-")) })
		if i < 0 {
			return nil, fmt.Errorf("alexa: locale %q has no built-in friendly names (supported: %s)", l, strings.Join(SupportedLocales, ", "))
		}
		l = SupportedLocales[i]
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out, nil
}

// text returns the built-in text for key in locale.
func text(key textKey, locale string) string {
	t := translations[key]
	if s, ok := t[locale]; ok {
		return s
	}
	lang, _, _ := strings.Cut(locale, "-")
	if s, ok := t[lang]; ok {
		return s
	}
	return t["en"]
}

// builtinNames returns friendly names: the asset (when not "") first, then the
// texts of keys for every configured locale, without repeats.
func (p *profile) builtinNames(asset string, keys ...textKey) []label {
	var out []label
	if asset != "" {
		out = append(out, label{Type: "asset", Value: labelValue{AssetID: asset}})
	}
	seen := map[labelValue]bool{}
	for _, k := range keys {
		for _, loc := range p.locales {
			v := labelValue{Text: text(k, loc), Locale: loc}
			if !seen[v] {
				seen[v] = true
				out = append(out, label{Type: "text", Value: v})
			}
		}
	}
	return out
}

// genericNames renders a bridge's names for a generic trait or value: every
// asset, the texts in configured locales, and for a configured locale without
// a text the first text given (re-tagged with that locale: a name in another
// language still lets Alexa target the trait, no name does not). fallback is
// used when the bridge gave no name at all.
func (p *profile) genericNames(names []model.Name, fallback string) []label {
	var out []label
	var firstText string
	have := map[string]bool{}
	for _, n := range names {
		if n.AssetID != "" {
			out = append(out, label{Type: "asset", Value: labelValue{AssetID: n.AssetID}})
		}
		if n.Text != "" && firstText == "" {
			firstText = n.Text
		}
	}
	for _, loc := range p.locales {
		for _, n := range names {
			if n.Text != "" && n.Locale == loc {
				out = append(out, label{Type: "text", Value: labelValue{Text: n.Text, Locale: loc}})
				have[loc] = true
			}
		}
	}
	if firstText == "" && len(out) == 0 {
		firstText = fallback
	}
	if firstText != "" {
		for _, loc := range p.locales {
			if !have[loc] {
				out = append(out, label{Type: "text", Value: labelValue{Text: firstText, Locale: loc}})
			}
		}
	}
	return out
}
