package ftpd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// instance is what a server's configuration is made from.
type instance struct {
	kind string
	in   install
	acct account
	slot *slot
	opts Options
	dir  string // private folder: configuration, logs, certificate, root
	root string // the served folder
	cert string // TLS only
	key  string // TLS only
	log  string // the server's own log file
}

// configure writes kind's private configuration files into inst.dir and
// returns the command line that runs the server in the foreground.
func configure(ctx context.Context, inst *instance) ([]string, error) {
	switch inst.kind {
	case "vsftpd":
		return configureVsftpd(inst)
	case "pure-ftpd":
		return configurePureFTPd(ctx, inst)
	case "proftpd":
		return configureProFTPd(inst)
	}
	return nil, fmt.Errorf("ftpd: unknown server kind %q", inst.kind)
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// configureVsftpd: the session logs in the system user through PAM
// (pam_service_name) and is chrooted into local_root.
func configureVsftpd(inst *instance) ([]string, error) {
	empty := filepath.Join(inst.dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil && !os.IsExist(err) { // exists on Restart
		return nil, fmt.Errorf("ftpd: vsftpd: %w", err)
	}
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# private configuration of a throwaway test instance (ferry internal/ftpd)")
	w("listen=YES")
	w("listen_ipv6=NO")
	w("listen_address=127.0.0.1")
	w("listen_port=%d", inst.slot.ctrl)
	w("background=NO")
	// The seccomp sandbox of 3.0.3 kills sessions on syscalls of newer libcs.
	w("seccomp_sandbox=NO")
	w("anonymous_enable=NO")
	w("local_enable=YES")
	w("write_enable=YES")
	w("local_umask=022")
	w("file_open_mode=0666")
	w("local_root=%s", inst.root)
	w("chroot_local_user=YES")
	w("allow_writeable_chroot=YES")
	w("pam_service_name=%s", pamService)
	w("secure_chroot_dir=%s", empty)
	w("nopriv_user=%s", testUser)
	w("pasv_enable=YES")
	w("pasv_min_port=%d", inst.slot.pasvLo)
	w("pasv_max_port=%d", inst.slot.pasvHi)
	w("port_enable=YES")
	w("connect_from_port_20=NO")
	w("utf8_filesystem=YES")
	w("mdtm_write=YES")
	w("use_localtime=NO")
	w("max_clients=0")
	w("max_per_ip=0")
	w("tcp_wrappers=NO")
	w("dirmessage_enable=NO")
	w("ftpd_banner=ferry test vsftpd")
	w("xferlog_enable=YES")
	w("vsftpd_log_file=%s", inst.log)
	w("log_ftp_protocol=%s", yesNo(inst.opts.Debug))
	w("idle_session_timeout=600")
	w("data_connection_timeout=300")
	if inst.opts.TLS {
		w("ssl_enable=YES")
		w("rsa_cert_file=%s", inst.cert)
		w("rsa_private_key_file=%s", inst.key)
		w("force_local_logins_ssl=YES")
		w("force_local_data_ssl=YES")
		// The stock DES-CBC3-SHA is refused by OpenSSL 3. require_ssl_reuse
		// stays at its default, YES.
		w("ssl_ciphers=HIGH")
	}
	for _, line := range inst.opts.Extra {
		w("%s", line)
	}
	conf := filepath.Join(inst.dir, "vsftpd.conf")
	if err := os.WriteFile(conf, b.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("ftpd: vsftpd: %w", err)
	}
	return []string{inst.in.daemon, conf}, nil
}

// configurePureFTPd: one virtual user in a private PureDB, mapped onto the
// system user's uid and gid; "ROOT/./" as home chroots it there.
func configurePureFTPd(ctx context.Context, inst *instance) ([]string, error) {
	passwd := filepath.Join(inst.dir, "pureftpd.passwd")
	pdb := filepath.Join(inst.dir, "pureftpd.pdb")
	line := fmt.Sprintf("%s:%s:%d:%d::%s/./::::::::::::\n", testUser, passHash, inst.acct.uid, inst.acct.gid, inst.root)
	if err := os.WriteFile(passwd, []byte(line), 0o600); err != nil {
		return nil, fmt.Errorf("ftpd: pure-ftpd: %w", err)
	}
	out, err := exec.CommandContext(ctx, inst.in.purePW, "mkdb", pdb, "-f", passwd).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ftpd: pure-pw mkdb %s: %w: %s", pdb, err, bytes.TrimSpace(out))
	}
	args := []string{inst.in.daemon,
		"-S", fmt.Sprintf("127.0.0.1,%d", inst.slot.ctrl),
		"-p", fmt.Sprintf("%d:%d", inst.slot.pasvLo, inst.slot.pasvHi),
		"-l", "puredb:" + pdb,
		"-A", // chroot everyone
		"-E", // no anonymous
		"-H", // no reverse DNS
		"-4", // IPv4 only
		"-c", "200", "-C", "100",
		"-f", "none", // no syslog
		"-g", filepath.Join(inst.dir, "pure-ftpd.pid"),
		"-O", "clf:" + inst.log,
	}
	if inst.opts.Debug {
		args = append(args, "-d", "-d")
	}
	args = append(args, inst.opts.Extra...)
	if inst.opts.TLS {
		// -Y 3: TLS required on the control and the data connections.
		args = append(args, "-Y", "3", "-2", inst.cert+","+inst.key)
	}
	return args, nil
}

// configureProFTPd: one virtual user in a private AuthUserFile with the
// system user's uid and gid, chrooted into its home (DefaultRoot ~).
func configureProFTPd(inst *instance) ([]string, error) {
	passwd := filepath.Join(inst.dir, "ftpd.passwd")
	group := filepath.Join(inst.dir, "ftpd.group")
	pline := fmt.Sprintf("%s:%s:%d:%d::%s:/bin/sh\n", testUser, passHash, inst.acct.uid, inst.acct.gid, inst.root)
	gline := fmt.Sprintf("%s:x:%d:\n", testUser, inst.acct.gid)
	if err := os.WriteFile(passwd, []byte(pline), 0o600); err != nil {
		return nil, fmt.Errorf("ftpd: proftpd: %w", err)
	}
	if err := os.WriteFile(group, []byte(gline), 0o600); err != nil {
		return nil, fmt.Errorf("ftpd: proftpd: %w", err)
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# private configuration of a throwaway test instance (ferry internal/ftpd)")
	w(`ServerName "ferry test proftpd"`)
	w(`ServerIdent on "ferry test proftpd"`)
	w("ServerType standalone")
	w("DefaultServer on")
	w("UseIPv6 off")
	w("DefaultAddress 127.0.0.1")
	w("SocketBindTight on")
	w("Port %d", inst.slot.ctrl)
	w("PassivePorts %d %d", inst.slot.pasvLo, inst.slot.pasvHi)
	w("PidFile %s", filepath.Join(inst.dir, "proftpd.pid"))
	w("ScoreboardFile %s", filepath.Join(inst.dir, "proftpd.scoreboard"))
	w("DelayTable %s", filepath.Join(inst.dir, "proftpd.delay"))
	w("SystemLog %s", inst.log)
	w("TransferLog %s", filepath.Join(inst.dir, "xferlog"))
	w("WtmpLog off")
	// mod_ctrls would otherwise bind the one admin socket /run/proftpd.sock,
	// which every instance would take from the one before.
	w("<IfModule mod_ctrls.c>")
	w("  ControlsEngine off")
	w("  ControlsSocket %s", filepath.Join(inst.dir, "proftpd.sock"))
	w("</IfModule>")
	w("UseReverseDNS off")
	w("User %s", testUser)
	w("Group %s", testUser)
	w("Umask 022 022")
	w("MaxInstances 200")
	w("TimeoutIdle 600")
	w("AuthOrder mod_auth_file.c")
	w("AuthUserFile %s", passwd)
	w("AuthGroupFile %s", group)
	w("RequireValidShell off")
	w("UseFtpUsers off")
	w("DefaultRoot ~")
	w("AllowOverwrite on")
	// AllowStoreRestart stays at its stock "off": REST before STOR and APPE
	// get "451 Append/Restart not permitted".
	w("ModulePath %s", inst.in.modDir)
	w("LoadModule mod_site_misc.c") // SITE UTIME
	w("<IfModule mod_lang.c>")
	w("  LangEngine on")
	w("  UseEncoding UTF-8 UTF-8")
	w("</IfModule>")
	if inst.opts.Debug {
		w("DebugLevel 10")
	}
	for _, line := range inst.opts.Extra {
		w("%s", line)
	}
	if inst.opts.TLS {
		w("LoadModule mod_tls.c")
		w("<IfModule mod_tls.c>")
		w("  TLSEngine on")
		w("  TLSLog %s", filepath.Join(inst.dir, "tls.log"))
		w("  TLSProtocol TLSv1.2 TLSv1.3")
		w("  TLSRSACertificateFile %s", inst.cert)
		w("  TLSRSACertificateKeyFile %s", inst.key)
		w("  TLSRequired on")
		w("  TLSVerifyClient off")
		w("  TLSRenegotiate none")
		// TLSOptions NoSessionReuseRequired is not set: data connections
		// must resume the control connection's TLS session (stock rule).
		w("</IfModule>")
	}
	conf := filepath.Join(inst.dir, "proftpd.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("ftpd: proftpd: %w", err)
	}
	return []string{inst.in.daemon, "-n", "-q", "-c", conf}, nil
}
