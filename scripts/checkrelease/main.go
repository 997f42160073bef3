// Command checkrelease checks what `make release` wrote to a dist directory:
// SHA256SUMS lists every archive with its right checksum, and each
// avshub_VERSION_linux_ARCH.tar.gz holds exactly the one executable (for its
// architecture, within the size budget), the systemd unit, the sample
// configuration and the README, laid out as the unit's install lines expect.
//
//	go run ./scripts/checkrelease [-max-mb 35] DIST ARCH...
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	maxMB := flag.Float64("max-mb", 35, "the most the executable may weigh, in MB (10^6 bytes)")
	flag.Parse()
	if flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: checkrelease [-max-mb 35] DIST ARCH...")
		os.Exit(2)
	}
	if err := check(flag.Arg(0), flag.Args()[1:], int64(*maxMB*1e6), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "checkrelease:", err)
		os.Exit(1)
	}
}

// machines maps GOARCH to the ELF machine and class its executables have.
var machines = map[string]struct {
	m elf.Machine
	c elf.Class
}{
	"amd64": {elf.EM_X86_64, elf.ELFCLASS64},
	"arm64": {elf.EM_AARCH64, elf.ELFCLASS64},
	"arm":   {elf.EM_ARM, elf.ELFCLASS32},
}

// contents is what every archive holds below its top directory.
var contents = []string{"README.md", "bin/avshub", "configs/avshub.service", "configs/avshub.yaml"}

func check(dist string, archs []string, maxBytes int64, out io.Writer) error {
	sums, err := readSums(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		return err
	}
	var errs []error
	for _, arch := range archs {
		want, ok := machines[arch]
		if !ok {
			return fmt.Errorf("unknown architecture %q", arch)
		}
		matches, _ := filepath.Glob(filepath.Join(dist, "avshub_*_linux_"+arch+".tar.gz"))
		if len(matches) != 1 {
			errs = append(errs, fmt.Errorf("%s: %d archives, want 1", arch, len(matches)))
			continue
		}
		name := filepath.Base(matches[0])
		data, err := os.ReadFile(matches[0])
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		if sums[name] != hex.EncodeToString(sum[:]) {
			errs = append(errs, fmt.Errorf("%s: SHA256SUMS says %q, the file is %x", name, sums[name], sum))
		}
		delete(sums, name)
		files, err := untar(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		top := strings.TrimSuffix(name, ".tar.gz") + "/"
		var got []string
		for f := range files {
			got = append(got, strings.TrimPrefix(f, top))
		}
		slices.Sort(got)
		if !slices.Equal(got, contents) {
			errs = append(errs, fmt.Errorf("%s holds %v, want %v under %s", name, got, contents, top))
			continue
		}
		exe := files[top+"bin/avshub"]
		f, err := elf.NewFile(bytes.NewReader(exe))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: bin/avshub: %w", name, err))
			continue
		}
		if f.Machine != want.m || f.Class != want.c {
			errs = append(errs, fmt.Errorf("%s: bin/avshub is %v %v, want %v %v", name, f.Machine, f.Class, want.m, want.c))
		}
		if f.Section(".symtab") != nil {
			errs = append(errs, fmt.Errorf("%s: bin/avshub has a symbol table: not built with -ldflags \"-s -w\"", name))
		}
		if int64(len(exe)) > maxBytes {
			errs = append(errs, fmt.Errorf("%s: bin/avshub is %.1f MB, over the %.1f MB budget", name, float64(len(exe))/1e6, float64(maxBytes)/1e6))
		}
		fmt.Fprintf(out, "%s: ok, bin/avshub %.1f MB (%d bytes, hub and bundled bridges), archive %.1f MB\n",
			name, float64(len(exe))/1e6, len(exe), float64(len(data))/1e6)
	}
	for extra := range sums {
		errs = append(errs, fmt.Errorf("SHA256SUMS lists %s, which was not checked", extra))
	}
	return errors.Join(errs...)
}

// readSums reads a sha256sum file into name -> hex checksum.
func readSums(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s: bad line %q", path, sc.Text())
		}
		m[strings.TrimPrefix(fields[1], "*")] = fields[0]
	}
	return m, sc.Err()
}

// untar returns the regular files of a gzip'd tar archive; an executable's
// mode must be 0755 and every path stays under one top directory.
func untar(data []byte) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.Contains(h.Name, "..") || strings.HasPrefix(h.Name, "/") {
			return nil, fmt.Errorf("unsafe path %q", h.Name)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if strings.HasPrefix(filepath.Base(filepath.Dir(h.Name)), "bin") && h.FileInfo().Mode().Perm() != 0o755 {
			return nil, fmt.Errorf("%s has mode %v, want 0755", h.Name, h.FileInfo().Mode().Perm())
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		files[h.Name] = b
	}
}
