package state

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func TestServerProfileRoundTripAndReplace(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	const key = "ftp.example.com:21 deploy"
	if _, _, ok, err := db.ServerProfile(ctx, key); ok || err != nil {
		t.Fatalf("unknown server: ok %v err %v", ok, err)
	}
	first := []byte(`{"mfmt":true,"rnto_overwrites":false}`)
	mustOK(t, db.SaveServerProfile(ctx, key, first, t0))
	second := []byte(`{"mfmt":false,"list_offset":"-1h"}`)
	mustOK(t, db.SaveServerProfile(ctx, key, second, t0.Add(time.Hour)))
	mustOK(t, db.SaveServerProfile(ctx, "other:21 anonymous", first, t0))
	db.Close()

	db, err := Open(ctx, path)
	mustOK(t, err)
	defer db.Close()
	data, at, ok, err := db.ServerProfile(ctx, key)
	if !ok || err != nil || !bytes.Equal(data, second) || !at.Equal(t0.Add(time.Hour)) || at.Location() != time.UTC {
		t.Errorf("ServerProfile = %s, %v, %v, %v; want %s at %v", data, at, ok, err, second, t0.Add(time.Hour))
	}
}

func TestJournalKeepsPendingStepsUntilDone(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	a := mustRoot(t, db, "/a", "ftp://h/")
	b := mustRoot(t, db, "/b", "ftp://h/")
	id1, err := db.JournalAdd(ctx, a, "replace", "www/index.html", `{"tmp":".ferry-tmp-1"}`)
	mustOK(t, err)
	id2, err := db.JournalAdd(ctx, a, "upload-temp", "big.iso", ".ferry-tmp-2")
	mustOK(t, err)
	_, err = db.JournalAdd(ctx, b, "replace", "x", "")
	mustOK(t, err)
	mustOK(t, db.JournalDone(ctx, id1))
	db.Close() // a crash after id2 started: it must still be there

	db, err = Open(ctx, path)
	mustOK(t, err)
	defer db.Close()
	got, err := db.Journal(ctx, a)
	mustOK(t, err)
	want := []JournalEntry{{ID: id2, Root: a, Kind: "upload-temp", Path: "big.iso", Data: ".ferry-tmp-2"}}
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("Journal(a) = %+v, want %+v", got, want)
	}
	if err := db.JournalDone(ctx, id1); !errors.Is(err, ErrNotFound) {
		t.Errorf("JournalDone twice = %v, want ErrNotFound", err)
	}
	if got, _ := db.Journal(ctx, b); len(got) != 1 || got[0].Path != "x" {
		t.Errorf("Journal(b) = %+v", got)
	}
}
