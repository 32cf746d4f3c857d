package ftpd
import ("testing";"os")
func TestZZDebug(t *testing.T) {
	for _, k := range Kinds() {
		s := Start(t, k, Options{Debug: true, TLS: true})
		c := dial(t, s); c.login(s); c.quit()
		b, _ := os.ReadFile(s.LogFile)
		t.Logf("%s log %d bytes:\n%s", k, len(b), s.logTail(4))
	}
}
