package cli

import iofs "io/fs"

type fs = iofs.FS

func readFile(f fs, name string) ([]byte, error) { return iofs.ReadFile(f, name) }
