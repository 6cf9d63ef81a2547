package thingspro

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// The gateway's shell over SSH: a password login and one command, the
// listing of listening sockets (ss -ltnu), which reflects the simulated
// settings. Anything else exits with 127.

var (
	hostKeyOnce sync.Once
	hostKey     ssh.Signer
	hostKeyErr  error
)

// sshHostKey is the simulator's host key, one per process.
func sshHostKey() (ssh.Signer, error) {
	hostKeyOnce.Do(func() {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			hostKeyErr = err
			return
		}
		hostKey, hostKeyErr = ssh.NewSignerFromKey(priv)
	})
	return hostKey, hostKeyErr
}

// SSHHostKey returns the shell's public host key (for a test's known_hosts).
func (d *Device) SSHHostKey() (ssh.PublicKey, error) {
	k, err := sshHostKey()
	if err != nil {
		return nil, err
	}
	return k.PublicKey(), nil
}

func (d *Device) serveSSH(ln net.Listener) {
	key, err := sshHostKey()
	if err != nil {
		return
	}
	cfg := &ssh.ServerConfig{
		ServerVersion: "SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u1",
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == d.cfg.SSHUser && subtle.ConstantTimeCompare(pw, []byte(d.cfg.SSHPassword)) == 1 {
				return nil, nil
			}
			return nil, errors.New("wrong login")
		},
	}
	cfg.AddHostKey(key)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		d.mu.Lock()
		d.conns[c] = PortSSH
		d.mu.Unlock()
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer func() {
				d.mu.Lock()
				delete(d.conns, c)
				d.mu.Unlock()
				c.Close()
			}()
			d.sshConn(c, cfg)
		}()
	}
}

func (d *Device) sshConn(c net.Conn, cfg *ssh.ServerConfig) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		for r := range creqs {
			if r.Type != "exec" {
				_ = r.Reply(false, nil)
				continue
			}
			var cmd struct{ Command string }
			if err := ssh.Unmarshal(r.Payload, &cmd); err != nil {
				_ = r.Reply(false, nil)
				continue
			}
			_ = r.Reply(true, nil)
			status := uint32(0)
			if strings.Contains(cmd.Command, "ss -ltnu") {
				_, _ = ch.Write([]byte(d.listening()))
			} else {
				_, _ = fmt.Fprintf(ch.Stderr(), "sh: 1: %s: not found\n", strings.Fields(cmd.Command + " x")[0])
				status = 127
			}
			b := make([]byte, 4)
			binary.BigEndian.PutUint32(b, status)
			_, _ = ch.SendRequest("exit-status", false, b)
			ch.Close()
			break
		}
	}
}

// listening renders what listens now, the way ss -ltnuH prints it.
func (d *Device) listening() string {
	d.mu.Lock()
	var socks []Socket
	if d.st.services["httpsservice"] {
		socks = append(socks, Socket{"tcp", 8443})
	}
	if d.st.services["httpservice"] {
		socks = append(socks, Socket{"tcp", 80})
	}
	if d.st.services["sshserver"] {
		socks = append(socks, Socket{"tcp", 22})
	}
	if d.st.discovery {
		socks = append(socks, Socket{"udp", 40404})
	}
	d.mu.Unlock()
	socks = append(socks, d.cfg.Listening...)
	sort.SliceStable(socks, func(i, j int) bool { return socks[i].Port < socks[j].Port })
	var b strings.Builder
	for _, s := range socks {
		state := "LISTEN"
		if s.Proto == "udp" {
			state = "UNCONN"
		}
		fmt.Fprintf(&b, "%-5s %-6s 0      128          0.0.0.0:%-5d      0.0.0.0:*\n", s.Proto, state, s.Port)
	}
	return b.String()
}
