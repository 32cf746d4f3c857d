package state

/*
// sqlite3_db_config comes from the SQLite that github.com/mattn/go-sqlite3
// compiles into the same binary; go-sqlite3 does not wrap it.
extern int sqlite3_db_config(void *db, int op, ...);

// 1006 is SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE.
static int ferry_no_ckpt_on_close(void *db) {
	return sqlite3_db_config(db, 1006, 1, (int *)0);
}
*/
import "C"

import (
	"fmt"
	"reflect"

	"github.com/mattn/go-sqlite3"
)

// noCheckpointOnClose stops conn from checkpointing the WAL into the
// database when it is the last connection to close. That checkpoint
// fsyncs the WAL and the database at every ferry exit, and on ext4 an
// fsync waits for the journal commit, which waits for other files' data
// being written back: measured 67-161 ms at the end of a 512 MiB push
// started right after copying the source. The WAL stays on disk instead
// (state.db-wal; SQLite reads it on the next open, as after a crash) and
// is checkpointed during a later run, when it passes
// wal_autocheckpoint's 1,000 pages.
//
// go-sqlite3 keeps its sqlite3 handle in an unexported field; when that
// ever changes, the field is not found and the checkpoint on close stays
// (an error the caller ignores).
func noCheckpointOnClose(conn *sqlite3.SQLiteConn) error {
	f := reflect.ValueOf(conn).Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() {
		return fmt.Errorf("no sqlite3 handle in %T", conn)
	}
	if rc := C.ferry_no_ckpt_on_close(f.UnsafePointer()); rc != 0 {
		return fmt.Errorf("sqlite3_db_config(NO_CKPT_ON_CLOSE): error %d", rc)
	}
	return nil
}
