//! A real nginx from Debian in front of Latchkey, as `docs/deployment.md`
//! sets one up: started by the test on loopback ports, in a directory of
//! its own (configuration, pid file, logs, temporary files), as the
//! current user, in the foreground and as a single process (no daemon, no
//! workers to outlive it), stopped and removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Debian package's binary.
pub const NGINX: &str = "/usr/sbin/nginx";

/// A running nginx.
pub struct Nginx {
    dir: PathBuf,
    child: Child,
}

impl Nginx {
    /// Starts nginx with `servers` (the `server { … }` blocks of its `http`
    /// section) and waits until each of `ports` on 127.0.0.1 accepts
    /// connections. `{dir}` in `servers` is replaced by its directory.
    /// Installs nginx first if it is missing; panics with its error log if
    /// it does not start.
    pub fn start(servers: &str, ports: &[u16]) -> Nginx {
        if !Path::new(NGINX).exists() {
            crate::apt_install(&["nginx"]).unwrap_or_else(|e| panic!("{e}"));
        }
        let dir =
            std::env::temp_dir().join(format!("latchkey-nginx-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("nginx's directory");
        let d = dir.display();
        let config = format!(
            "daemon off;\n\
             master_process off;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log info;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n\
             access_log {d}/access.log;\n\
             client_body_temp_path {d}/client_body;\n\
             proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n\
             scgi_temp_path {d}/scgi;\n\
             {}\n\
             }}\n",
            servers.replace("{dir}", &d.to_string())
        );
        std::fs::write(dir.join("nginx.conf"), config).expect("nginx.conf written");
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            // Before the configuration is read, errors go here rather than
            // to /var/log/nginx.
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {NGINX}: {e}"));
        let mut nginx = Nginx { dir, child };
        nginx.wait_for(ports);
        nginx
    }

    fn wait_for(&mut self, ports: &[u16]) {
        let started = Instant::now();
        for port in ports {
            while std::net::TcpStream::connect(("127.0.0.1", *port)).is_err() {
                if let Ok(Some(status)) = self.child.try_wait() {
                    panic!("nginx exited ({status}): {}", self.error_log());
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "nginx does not listen on {port}: {}",
                    self.error_log()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Its directory: `nginx.conf`, `error.log`, `access.log`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What nginx has written to its error log.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
