// Package crashtest is ferry's crash-and-fault campaign (issue 10:
// "nothing lost, nothing hidden"). It runs the real ferry binary, in
// push, pull and two-way sync mode, against ftptestd (ferry's own test
// server, as a process) and the real vsftpd, pure-ftpd and proftpd of
// internal/ftpd, and breaks things while ferry works: ferry is killed
// with SIGKILL, the FTP server is killed and restarted on the same port,
// ftptestd drops and cuts connections by script. Then ferry is run again
// until it succeeds, and the harness checks what it promises:
//
//  1. No file under its real name, on either side, is ever partial or a
//     mix of versions: a poller reads every such file over and over while
//     ferry runs and matches its bytes against the versions the round made
//     (each version's bytes derive from a token in its first 16 bytes; the
//     harness keeps every version's SHA-256).
//  2. push and pull leave the destination equal to the source (and the
//     source untouched); two-way leaves both sides equal and loses no
//     version: every change survives at its path or as a conflict copy
//     (NAME.conflict-YYYYMMDD-HHMMSS.EXT), a one-sided change wins the
//     name, a delete of an unchanged file wins.
//  3. No temporaries (.NAME.ferry-tmp) are left after success.
//  4. The state cache (--state FILE) passes PRAGMA integrity_check after
//     every run, killed or not, and at the end.
//  5. No panic, no data race (with -ferry-race), no hang: every run ends
//     within its deadline (a hung one is dumped with SIGQUIT).
//
// A run after the successful one must succeed and change nothing.
//
// Each round is seeded: its trees (nested folders, empty folders, Unicode
// names, spaces, dotfiles, 0 bytes to several MiB), its mutations and its
// faults come from the seed; the exact moment a fault lands is timing.
// About half the rounds sync first and then change the trees (modify,
// delete, add, file against folder, conflicts); the others start from two
// unsynced trees. A failing round prints its seed and a one-line replay.
//
// make test runs TestCampaign as a short, fixed-seed campaign; make
// crashtest runs the long one (see the Makefile for its parameters).
package crashtest
