//! A program in a pseudo-terminal, read through a terminal emulator.
#![allow(dead_code)]

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession;
use expectrl::{Expect, Session};
use std::time::{Duration, Instant};

/// The binary in a pseudo-terminal, and what its screen shows: the output goes through a
/// terminal emulator (vt100), because the UI writes only the cells that changed and text on
/// screen need not be contiguous in the byte stream.
pub struct Tty {
    pub session: OsSession,
    screen: vt100::Parser,
}

fn nonzero(n: u16) -> std::num::NonZero<u16> {
    std::num::NonZero::new(n).expect("a terminal has lines and columns")
}

impl Tty {
    /// Starts `cmd` in a pseudo-terminal of `cols` × `rows`.
    pub fn spawn(cmd: std::process::Command, cols: u16, rows: u16) -> Tty {
        let mut session = Session::spawn(cmd).expect("spawn dealtrace in a pty");
        session
            .get_process_mut()
            .set_window_size(cols, rows)
            .expect("set the pty size");
        Tty {
            session,
            screen: vt100::Parser::new(nonzero(rows), nonzero(cols), 0),
        }
    }

    /// Reads what is there; false once the program has closed the terminal.
    pub fn pump(&mut self) -> bool {
        let mut buf = [0u8; 8192];
        loop {
            match self.session.try_read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => self.screen.process(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(_) => return false,
            }
        }
    }

    pub fn contents(&self) -> String {
        self.screen.screen().contents()
    }

    /// Waits until `text` is on screen.
    pub fn see(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let open = self.pump();
            if self.contents().contains(text) {
                return;
            }
            assert!(
                open,
                "dealtrace closed the terminal before showing {text:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{text:?} never appeared; the screen:\n{}", self.contents());
    }

    /// Sends keys one at a time, as a person types: the UI sees each as its own event.
    /// An escape sequence (Shift-Tab is `ESC [ Z`) goes as one write, or the UI would read a
    /// lone Esc.
    pub fn keys(&mut self, text: &str) {
        if text.starts_with('\u{1b}') && text.len() > 1 {
            self.session.send(text).expect("send a key");
            std::thread::sleep(Duration::from_millis(8));
            self.pump();
            return;
        }
        for c in text.chars() {
            self.session.send(c.to_string()).expect("send a key");
            std::thread::sleep(Duration::from_millis(8));
            self.pump();
        }
    }

    /// Waits for the program to exit and returns its status.
    pub fn exit(mut self) -> WaitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.pump() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.session
            .get_process()
            .wait()
            .expect("wait for dealtrace")
    }
}
