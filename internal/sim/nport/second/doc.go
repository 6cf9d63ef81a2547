// Package second is an independent NPort 5000 web console used as a test
// peer for the NPort driver.
//
// It was written from the public evidence only (the reference pages
// nport-web-evidence.md, nport-web-pages.md and nport.md, and the hardening
// guide's wording), without reading the driver or the first simulator, so
// that agreement between the driver and this console means something. Where
// the evidence pins a detail, this console follows it: the GA login fields
// (Username, Password, MD5Password, FakeChallenge, Submit.x/.y), the G-sec
// login fields (EncPasswd, EncUser, FakeChallenge), the two answers' formulas,
// "Already login.", GET /LogoutAct.htm answered 307, the failed-login record
// form (setfunc=clearWebLogAction, csrf_token, clearLog, continue) submitted
// to /action.htm, the Skip button of the default-password nag, script-written
// text inputs (inputText, inputTextEx) and identity values (set("modelname",
// ...), set("mac", ...), set("serialno", ...), set("ver", ...)), GET forms
// with a hidden setfunc, "Session Expired", the page title "NPort Web
// Console" and the Server header "MoxaHttp/2.2" on GA. Visible labels follow
// the hardening guide.
//
// Everything else is this console's own choice and deliberately differs from
// the obvious names:
//
//   - frames (GA): "navpane" (menu) and "workpane" (pages); G-sec has no
//     frameset: /home.htm carries the menu links itself and an iframe named
//     "pageview";
//   - page URLs: /sysinfo.htm (overview), /cfg_console.htm, /cfg_time.htm,
//     /adm_snmp.htm, /adm_users.htm, /adm_user_add.htm,
//     /adm_user_edit.htm?row=N, /adm_pwpolicy.htm, /adm_notice.htm,
//     /sec_acl.htm, /log_events.htm, /log_remote.htm, /mon_syslog.htm,
//     /port_mode.htm?sp=N, /sys_restart.htm; G-sec interstitials
//     /fail_history.htm and /pw_advice.htm; G-sec logout /signout.htm;
//   - form actions: /setup.htm (GA) and /cfgsubmit.htm (G-sec), always GET;
//     setfunc values consoleCfg, timeCfg, snmpCfg, userTable, userAdd,
//     userEdit, pwPolicyCfg, noticeCfg, aclCfg, logEventCfg, remoteLogCfg,
//     portModeCfg, saveRestart; the nag's setfunc is pwAdviceAction;
//   - field names: see the control tables in pages.go (c_web, c_ssl, c_tls1,
//     c_tn, c_con, c_dsci, c_maxu, c_idle, c_rbp, ag_*, pp_*, r<N>_*, ...);
//   - cookies: "ConsoleTicket" (GA) and "wsid" (G-sec);
//   - confirmation texts: "Stored. The unit applies it after Save/Restart."
//     (GA) and "Change recorded; it takes effect after Save/Restart." (G-sec);
//     Save/Restart answers "The unit is restarting with the stored
//     configuration.";
//   - Server header on G-sec: "MoxaHttp/2.6" (not public).
//
// Behaviour the evidence leaves open is resolved here as follows, and
// documented so the driver's tests can rely on it: a checkbox missing from a
// submit means unchecked, any other field missing from a submit rejects the
// whole submit; console enables, the accessible IP list, the lockout policy,
// the login-user limit and the idle timeout take effect only after
// Save/Restart, which also ends every session; account changes take effect at
// once. GA allows one web session at a time ("Already login." for a second)
// and has no login interstitials (its login answers the frameset directly);
// G-sec allows "Maximum Login Users For HTTP+HTTPS" sessions and redirects
// (302) through the interstitials, which every other page redirects to until
// they are answered. A login challenge works once. An unknown session cookie
// gets a page saying "Session Expired"; no cookie gets a redirect to "/".
// A host refused by the accessible IP list, or a disabled HTTP or HTTPS
// console, gets its connection closed without an answer.
package second
