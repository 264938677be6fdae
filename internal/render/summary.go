package render

// MemTotal is the MemTotal the meminfo view shows for in, in bytes.
func MemTotal(in *Input) uint64 { return newMemView(in).total }
