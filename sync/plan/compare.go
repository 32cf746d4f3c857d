package plan

import "time"

// SameTime reports whether a and b show the same modification time, given
// how exact each is. With p the coarser of the two precisions: if either
// side has no time (Precision 0) the times do not decide and SameTime is
// true (size decides). Otherwise the coarser time is taken as the floor of
// the finer one: they are the same iff coarse <= fine < coarse+p. With equal
// precisions that is |a-b| < p, so two second-precision times are the same
// iff they name the same second.
func SameTime(a, b Meta) bool {
	if a.Precision <= 0 || b.Precision <= 0 {
		return true
	}
	if a.Precision == b.Precision {
		d := a.ModTime.Sub(b.ModTime)
		if d < 0 {
			d = -d
		}
		return d < a.Precision
	}
	coarse, fine := a, b
	if b.Precision > a.Precision {
		coarse, fine = b, a
	}
	if fine.ModTime.Before(coarse.ModTime) {
		return false
	}
	return fine.ModTime.Before(coarse.ModTime.Add(coarse.Precision))
}

// Same reports whether a and b describe the same entry: the same Kind and,
// for files, the same Size and SameTime. Folders compare by Kind only.
func Same(a, b Meta) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind != File {
		return true
	}
	return a.Size == b.Size && SameTime(a, b)
}

// timeKnown reports whether a comparison of a and b can use their times.
func timeKnown(a, b Meta) bool { return a.Precision > 0 && b.Precision > 0 }

// newer reports whether a is strictly newer than b; times that are the
// same at their precision are not newer.
func newer(a, b Meta) bool {
	return !SameTime(a, b) && a.ModTime.After(b.ModTime)
}

// truncUTC is t in UTC truncated to whole seconds (for conflict names).
func truncUTC(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
