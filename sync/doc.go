// Package sync runs ferry's synchronisations: it scans the local folder,
// walks the remote one over a pool of FTP connections, loads the state
// cache, asks package plan what to do and carries the plan out with atomic,
// parallel transfers, recording each finished action in the state cache.
//
// Import it as ferrysync where the standard library's sync is also needed.
package sync
