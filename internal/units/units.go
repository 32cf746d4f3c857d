// Package units renders quantities for people: byte counts in binary
// units, as the command line's summaries and the agent's status page show
// them.
package units

import "fmt"

// Bytes renders n bytes as "512 B", "1.5 KiB", "20.0 MiB", ... (powers of
// 1024, one decimal above bytes).
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
