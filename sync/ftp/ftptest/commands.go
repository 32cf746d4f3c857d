package ftptest

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// Do runs the server's own handling of cmd (upper case) with arg, as if no
// hook had seen it. A hook may call it to add behaviour around a command.
func (s *Session) Do(cmd, arg string) {
	rnfr := s.renameFrom
	s.renameFrom = ""
	if !s.loggedIn && !allowedBeforeLogin(cmd) {
		s.Reply(530, "Please login with USER and PASS.")
		return
	}
	switch cmd {
	case "USER":
		s.cmdUser(arg)
	case "PASS":
		s.cmdPass(arg)
	case "QUIT":
		s.Reply(221, "Goodbye.")
		s.quit = true
	case "NOOP":
		s.Reply(200, "NOOP ok.")
	case "SYST":
		s.Reply(215, "UNIX Type: L8")
	case "FEAT":
		s.Reply(211, s.features()...)
	case "HELP":
		s.Reply(214, "The following commands are recognized.",
			" ABOR APPE AUTH CDUP CWD DELE EPRT EPSV FEAT HELP LIST MDTM MFMT MKD MLSD MLST MODE NLST NOOP",
			" OPTS PASS PASV PBSZ PORT PROT PWD QUIT REST RETR RMD RNFR RNTO SIZE STOR STRU SYST TYPE USER",
			"Help OK.")
	case "OPTS":
		s.cmdOpts(arg)
	case "TYPE":
		s.cmdType(arg)
	case "MODE":
		s.onlyParam(arg, "S", "Mode set to S.")
	case "STRU":
		s.onlyParam(arg, "F", "Structure set to F.")
	case "PWD", "XPWD":
		s.Reply(257, quotePath(s.cwd)+" is the current directory")
	case "CWD", "XCWD":
		s.cmdCwd(arg)
	case "CDUP", "XCUP":
		s.cmdCwd("..")
	case "MKD", "XMKD":
		s.cmdMkd(arg)
	case "RMD", "XRMD":
		s.cmdRmd(arg)
	case "DELE":
		s.cmdDele(arg)
	case "RNFR":
		s.cmdRnfr(arg)
	case "RNTO":
		s.cmdRnto(rnfr, arg)
	case "SIZE":
		s.cmdSize(arg)
	case "MDTM":
		s.cmdMdtm(arg)
	case "MFMT":
		s.cmdMfmt(arg)
	case "REST":
		s.cmdRest(arg)
	case "RETR":
		s.cmdRetr(arg)
	case "STOR":
		s.cmdStor(arg, false)
	case "APPE":
		s.cmdStor(arg, true)
	case "ABOR":
		s.Reply(225, "No transfer to ABOR.")
	case "LIST", "NLST", "MLSD":
		s.cmdList(cmd, arg)
	case "MLST":
		s.cmdMlst(arg)
	case "PASV":
		s.cmdPasv()
	case "EPSV":
		s.cmdEpsv(arg)
	case "PORT":
		s.cmdPort(arg)
	case "EPRT":
		s.cmdEprt(arg)
	case "AUTH":
		s.cmdAuth(arg)
	case "PBSZ":
		s.cmdPbsz(arg)
	case "PROT":
		s.cmdProt(arg)
	default:
		s.Reply(500, "Unknown command.")
	}
}

func allowedBeforeLogin(cmd string) bool {
	switch cmd {
	case "USER", "PASS", "QUIT", "NOOP", "SYST", "FEAT", "HELP", "OPTS", "AUTH", "PBSZ", "PROT":
		return true
	}
	return false
}

// features lists the FEAT reply (RFC 2389) for the options in force.
func (s *Session) features() []string {
	o := &s.srv.opts
	f := []string{"Features:"}
	if o.TLS == TLSExplicit {
		f = append(f, " AUTH TLS")
	}
	if !o.DisableEPSV {
		f = append(f, " EPRT", " EPSV")
	}
	f = append(f, " MDTM")
	if !o.DisableMFMT {
		f = append(f, " MFMT")
	}
	if !o.DisableMLSD {
		f = append(f, " MLST "+s.mlstFeat())
	}
	if o.TLS != TLSNone {
		f = append(f, " PBSZ", " PROT")
	}
	f = append(f, " PASV", " REST STREAM", " SIZE", " TVFS", " UTF8", "End")
	return f
}

func (s *Session) cmdUser(arg string) {
	if s.mustEncrypt() {
		s.Reply(530, "Non-anonymous sessions must use encryption.")
		return
	}
	if s.loggedIn {
		s.srv.logout()
	}
	s.user, s.loggedIn = arg, false
	s.Reply(331, "Please specify the password.")
}

// mustEncrypt reports whether explicit-TLS mode still waits for AUTH TLS.
func (s *Session) mustEncrypt() bool {
	o := &s.srv.opts
	return o.TLS == TLSExplicit && !o.TLSOptional && !s.tlsOn
}

func (s *Session) cmdPass(arg string) {
	switch {
	case s.loggedIn:
		s.Reply(230, "Already logged in.")
	case s.user == "":
		s.Reply(503, "Login with USER first.")
	case s.user != s.srv.opts.user() || arg != s.srv.opts.password():
		s.user = ""
		s.Reply(530, "Login incorrect.")
	case !s.srv.login():
		s.user = ""
		n := strconv.Itoa(s.srv.opts.MaxLogins)
		if s.srv.opts.MaxLoginsCode == 530 {
			s.Reply(530, "Sorry, the maximum number of clients ("+n+") for this user are already connected.")
		} else {
			s.Reply(421, "Too many connections ("+n+") for this user")
		}
		s.Close()
	default:
		s.loggedIn = true
		s.logins++
		s.srv.logins.Add(1)
		s.Reply(230, "Login successful.")
	}
}

func (s *Session) cmdOpts(arg string) {
	name, val, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(name) {
	case "UTF8", "UTF-8":
		if s.srv.opts.UTF8Reply504 {
			s.Reply(504, "Unknown command.")
			return
		}
		if strings.EqualFold(strings.TrimSpace(val), "ON") {
			s.Reply(200, "Always in UTF8 mode.")
			return
		}
		s.Reply(501, "Option not understood.")
	case "MLST":
		if s.srv.opts.DisableMLSD {
			s.Reply(501, "Option not understood.")
			return
		}
		s.setFacts(val)
		s.Reply(200, "MLST OPTS "+s.selectedFacts())
	default:
		s.Reply(501, "Option not understood.")
	}
}

func (s *Session) cmdType(arg string) {
	switch strings.ToUpper(strings.Join(strings.Fields(arg), " ")) {
	case "I", "L 8":
		s.binary = true
		s.Reply(200, "Switching to Binary mode.")
	case "A", "A N":
		s.binary = false
		s.Reply(200, "Switching to ASCII mode.")
	default:
		s.Reply(504, "Unrecognised TYPE command.")
	}
}

func (s *Session) onlyParam(arg, want, ok string) {
	if strings.EqualFold(strings.TrimSpace(arg), want) {
		s.Reply(200, ok)
		return
	}
	s.Reply(504, "Bad parameter.")
}

func (s *Session) cmdCwd(arg string) {
	v := s.resolve(arg)
	fi, err := s.srv.root.Stat(rootName(v))
	if err != nil || !fi.IsDir() {
		s.logf("CWD %s: %v", v, err)
		s.Reply(550, "Failed to change directory.")
		return
	}
	s.cwd = v
	s.Reply(250, "Directory successfully changed.")
}

func (s *Session) cmdMkd(arg string) {
	if arg == "" {
		s.Reply(501, "Missing directory name.")
		return
	}
	v := s.resolve(arg)
	if err := s.srv.root.Mkdir(rootName(v), 0o755); err != nil {
		s.replyFSError("MKD", v, err)
		return
	}
	s.Reply(257, quotePath(v)+" created")
}

func (s *Session) cmdRmd(arg string) {
	v := s.resolve(arg)
	fi, err := s.srv.root.Lstat(rootName(v))
	if err == nil && (!fi.IsDir() || v == "/") {
		s.Reply(550, "Not a directory.")
		return
	}
	if err == nil {
		err = s.srv.root.Remove(rootName(v))
	}
	if err != nil {
		s.replyFSError("RMD", v, err)
		return
	}
	s.Reply(250, "Remove directory operation successful.")
}

func (s *Session) cmdDele(arg string) {
	v := s.resolve(arg)
	fi, err := s.srv.root.Lstat(rootName(v))
	if err == nil && fi.IsDir() {
		s.Reply(550, "Is a directory.")
		return
	}
	if err == nil {
		err = s.srv.root.Remove(rootName(v))
	}
	if err != nil {
		s.replyFSError("DELE", v, err)
		return
	}
	s.Reply(250, "Delete operation successful.")
}

func (s *Session) cmdRnfr(arg string) {
	v := s.resolve(arg)
	if v == "/" {
		s.Reply(550, "Cannot rename the root.")
		return
	}
	if _, err := s.srv.root.Lstat(rootName(v)); err != nil {
		s.replyFSError("RNFR", v, err)
		return
	}
	s.renameFrom = v
	s.Reply(350, "Ready for RNTO.")
}

func (s *Session) cmdRnto(from, arg string) {
	if from == "" {
		s.Reply(503, "RNFR required first.")
		return
	}
	v := s.resolve(arg)
	if s.srv.opts.NoRenameOver {
		if _, err := s.srv.root.Lstat(rootName(v)); err == nil {
			s.Reply(550, "Cannot create a file when that file already exists.")
			return
		}
	}
	if err := s.srv.root.Rename(rootName(from), rootName(v)); err != nil {
		s.replyFSError("RNTO", v, err)
		return
	}
	s.Reply(250, "Rename successful.")
}

func (s *Session) cmdSize(arg string) {
	v := s.resolve(arg)
	fi, err := s.srv.root.Stat(rootName(v))
	if err != nil || !fi.Mode().IsRegular() {
		s.logf("SIZE %s: %v", v, err)
		s.Reply(550, "Could not get file size.")
		return
	}
	s.Reply(213, strconv.FormatInt(fi.Size(), 10))
}

// cmdMdtm answers MDTM path (RFC 3659 section 3) and, with
// Options.EnableMDTMSet, vsftpd's "MDTM YYYYMMDDHHMMSS path" setter. Both
// are in Options.LocalTime when set (vsftpd use_localtime=YES), else UTC.
func (s *Session) cmdMdtm(arg string) {
	loc := s.srv.localTime()
	if s.srv.opts.EnableMDTMSet {
		if stamp, name, ok := strings.Cut(arg, " "); ok && len(stamp) == 14 {
			if t, err := time.ParseInLocation("20060102150405", stamp, loc); err == nil {
				s.setTime(t, name, "File modification time set.")
				return
			}
		}
	}
	v := s.resolve(arg)
	fi, err := s.srv.root.Stat(rootName(v))
	if err != nil || !fi.Mode().IsRegular() {
		s.logf("MDTM %s: %v", v, err)
		s.Reply(550, "Could not get file modification time.")
		return
	}
	s.Reply(213, fi.ModTime().In(loc).Format("20060102150405"))
}

// cmdMfmt answers MFMT YYYYMMDDHHMMSS[.sss] path (draft-somers-ftp-mfxx).
func (s *Session) cmdMfmt(arg string) {
	if s.srv.opts.DisableMFMT {
		s.Reply(500, "Unknown command.")
		return
	}
	stamp, name, ok := strings.Cut(arg, " ")
	t, err := parseTimeVal(stamp)
	if !ok || name == "" || err != nil {
		s.Reply(501, "Syntax: MFMT YYYYMMDDHHMMSS path")
		return
	}
	s.setTime(t, name, "")
}

func (s *Session) setTime(t time.Time, name, okText string) {
	v := s.resolve(name)
	fi, err := s.srv.root.Stat(rootName(v))
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrInvalid
	}
	if err == nil {
		err = s.srv.root.Chtimes(rootName(v), t, t)
	}
	if err != nil {
		s.replyFSError("set time", v, err)
		return
	}
	if okText == "" {
		okText = fmt.Sprintf("Modify=%s; %s", timeVal(t), name)
	}
	s.Reply(213, okText)
}

// timeVal formats t as an RFC 3659 time-val in UTC.
func timeVal(t time.Time) string { return t.UTC().Format("20060102150405") }

// parseTimeVal parses an RFC 3659 time-val (UTC, optional fraction).
func parseTimeVal(v string) (time.Time, error) {
	base, frac, hasFrac := strings.Cut(v, ".")
	if len(base) != 14 {
		return time.Time{}, fmt.Errorf("time-val %q: want YYYYMMDDHHMMSS", v)
	}
	t, err := time.ParseInLocation("20060102150405", base, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("time-val %q: %w", v, err)
	}
	if hasFrac {
		if frac == "" || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" {
			return time.Time{}, fmt.Errorf("time-val %q: bad fraction", v)
		}
		ns, _ := strconv.Atoi((frac + "000000000")[:9])
		t = t.Add(time.Duration(ns))
	}
	return t, nil
}
