//! The modem side of 3GPP TS 27.010 basic-mode multiplexing (CMUX) on a
//! single serial port (`--uart`), over the codec of `cellular_core::cmux`.
//!
//! A [`Uart`] stands between the one serial line and the [`Modem`]. In plain
//! mode it hands the line's bytes to the modem's primary AT interpreter
//! ([`PortId::At`]) and passes its output back. After `AT+CMUX=0` has been
//! answered OK (the modem's [`Effect::Mux`]), the line carries frames:
//!
//! * SABM on DLCI 0, 1 or 2 is answered UA and opens it; SABM on any other
//!   DLCI is refused with DM.
//! * DLCI 1 is the modem's primary AT interpreter ([`PortId::At`]); URCs go
//!   there, as they go to the primary port of a USB modem. DLCI 2 is the
//!   second interpreter ([`PortId::Ppp`]): it dials (`ATD*99#`, `CONNECT`)
//!   and then carries the PPP bytes, as the USB modem's PPP port does. Both
//!   run against the same modem state. UIH (or UI) frames carry their bytes
//!   in and out; output is cut into frames of at most N1 octets.
//! * DISC on DLCI 1 or 2 is answered UA and closes it (its output is then
//!   dropped). DISC on DLCI 0, or a CLD control message (answered with the
//!   CLD response), closes the multiplexer: the line is plain AT again.
//! * Control messages on DLCI 0: MSC, PN, TEST, FCon and FCoff commands are
//!   answered with a response echoing their values; other commands with NSC.
//! * A reset (`AT+CFUN=1,1`, unplug) leaves mux mode, as a real modem boots
//!   in plain AT.
//!
//! Frames the modem sends have C/R clear on UIH (it is the responder) and
//! set on its responses (UA, DM), as 27.010 has it.

use crate::modem::{Effect, Modem, Out, PortId};
use cellular_core::cmux::control::{Body, Message};
use cellular_core::cmux::{encode, Decoder, Event as MuxEvent, Frame, Kind};

/// The DLCI of each of the modem's AT interpreters.
pub const fn dlci_of(port: PortId) -> u8 {
    match port {
        PortId::At => 1,
        PortId::Ppp => 2,
    }
}

/// The interpreter behind a DLCI.
pub const fn port_of(dlci: u8) -> Option<PortId> {
    match dlci {
        1 => Some(PortId::At),
        2 => Some(PortId::Ppp),
        _ => None,
    }
}

#[derive(Debug)]
struct Muxed {
    decoder: Decoder,
    max_info: usize,
    /// Open DLCIs 0, 1, 2.
    open: [bool; 3],
}

/// The single serial line of a modem, in plain AT or in CMUX mode.
#[derive(Debug, Default)]
pub struct Uart {
    mux: Option<Muxed>,
    /// Effects ready for the I/O layer, in order; writes go to [`PortId::At`]
    /// (the line).
    out: Vec<Effect>,
}

impl Uart {
    pub fn new() -> Uart {
        Uart::default()
    }

    /// Whether the line speaks CMUX now.
    pub fn muxed(&self) -> bool {
        self.mux.is_some()
    }

    /// Whether a DLCI (0–2) is open.
    pub fn is_open(&self, dlci: u8) -> bool {
        self.mux
            .as_ref()
            .and_then(|m| m.open.get(usize::from(dlci)).copied())
            .unwrap_or(false)
    }

    /// Bytes the host wrote to the line at time `now`.
    pub fn input(&mut self, modem: &mut Modem, mut bytes: &[u8], now: u64) {
        // A mute modem answers nothing, frames included, and what it is sent
        // meanwhile is lost (as on a plain port).
        if modem.is_muted() {
            return;
        }
        while !bytes.is_empty() {
            if self.mux.is_some() {
                self.mux_input(modem, bytes, now);
                return;
            }
            // Plain AT, one line at a time: the line that switches to CMUX
            // must take effect before the frames that follow it in the
            // same read.
            let end = bytes
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .map_or(bytes.len(), |i| i + 1);
            let (line, rest) = bytes.split_at(end);
            modem.input(PortId::At, line, now);
            self.collect(modem);
            bytes = rest;
        }
    }

    /// Everything for the I/O layer since the last call: the modem's effects
    /// (its writes framed when in CMUX mode) and the multiplexer's own.
    pub fn take_effects(&mut self, modem: &mut Modem) -> Vec<Effect> {
        self.collect(modem);
        std::mem::take(&mut self.out)
    }

    /// Test helper: drains the effects and returns the bytes written to the line.
    pub fn take_bytes(&mut self, modem: &mut Modem) -> Vec<u8> {
        self.take_effects(modem)
            .into_iter()
            .filter_map(|e| match e {
                Effect::Write(_, Out::Bytes(b)) => Some(b),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Moves the modem's effects to `out`, framing its writes in CMUX mode.
    fn collect(&mut self, modem: &mut Modem) {
        for effect in modem.take_effects() {
            match effect {
                Effect::Write(port, Out::Bytes(bytes)) => self.write(port, &bytes),
                Effect::Write(_, Out::Pause(ms)) => {
                    self.out.push(Effect::Write(PortId::At, Out::Pause(ms)))
                }
                Effect::Mux { port, max_info } => {
                    if port == PortId::At && self.mux.is_none() {
                        self.mux = Some(Muxed {
                            decoder: Decoder::new(max_info),
                            max_info,
                            open: [false; 3],
                        });
                        self.trace(format!("CMUX basic mode on, N1 {max_info}"));
                    }
                }
                Effect::Unplug | Effect::Replug(_) => {
                    if self.mux.take().is_some() {
                        self.trace("modem reset: CMUX off, plain AT".to_string());
                    }
                    self.out.push(effect);
                }
                // One line: there is no second port to reopen.
                Effect::Reopen(_) => {}
                other => self.out.push(other),
            }
        }
    }

    fn trace(&mut self, line: String) {
        self.out.push(Effect::Trace(format!("uart: {line}")));
    }

    /// Output of one of the modem's interpreters.
    fn write(&mut self, port: PortId, bytes: &[u8]) {
        let Some(mux) = &self.mux else {
            if port == PortId::At {
                self.out
                    .push(Effect::Write(PortId::At, Out::Bytes(bytes.to_vec())));
            }
            // The second interpreter has no line of its own outside CMUX.
            return;
        };
        let dlci = dlci_of(port);
        if !mux.open[usize::from(dlci)] {
            return;
        }
        let max_info = mux.max_info;
        let mut wire = Vec::with_capacity(bytes.len() + 8);
        for piece in bytes.chunks(max_info.max(1)) {
            let frame = Frame::uih(dlci, false, piece.to_vec());
            if encode(&frame, max_info, &mut wire).is_err() {
                return;
            }
        }
        if !wire.is_empty() {
            self.out.push(Effect::Write(PortId::At, Out::Bytes(wire)));
        }
    }

    /// A frame the modem itself sends (UA, DM, control responses).
    fn send(&mut self, frame: Frame) {
        let max_info = self.mux.as_ref().map_or(0, |m| m.max_info);
        let mut wire = Vec::new();
        if encode(&frame, max_info, &mut wire).is_ok() {
            self.out.push(Effect::Write(PortId::At, Out::Bytes(wire)));
        }
    }

    /// Bytes in mux mode. They go to the decoder one at a time (a serial
    /// line is slow), so that when a frame ends mux mode (CLD, DISC on
    /// DLCI 0) the bytes after its closing flag are plain AT again.
    fn mux_input(&mut self, modem: &mut Modem, bytes: &[u8], now: u64) {
        let mut events = Vec::new();
        for (i, byte) in bytes.chunks(1).enumerate() {
            let Some(mux) = &mut self.mux else {
                self.input(modem, bytes.get(i..).unwrap_or_default(), now);
                return;
            };
            mux.decoder.feed(byte, &mut events);
            for event in events.drain(..) {
                // What a replay brings after the frame that ended mux mode
                // is dropped.
                if self.mux.is_none() {
                    break;
                }
                match event {
                    MuxEvent::Frame(frame) => self.frame(modem, frame, now),
                    other => self.trace(format!("{other:?}")),
                }
            }
        }
    }

    fn frame(&mut self, modem: &mut Modem, frame: Frame, now: u64) {
        let dlci = frame.dlci;
        match frame.kind {
            Kind::Sabm => {
                let kind = match self
                    .mux
                    .as_mut()
                    .and_then(|m| m.open.get_mut(usize::from(dlci)))
                {
                    Some(open) => {
                        *open = true;
                        Kind::Ua
                    }
                    None => Kind::Dm,
                };
                self.trace(format!("SABM on DLCI {dlci}: {kind:?}"));
                self.send(Frame::empty(dlci, kind, frame.pf, true));
            }
            Kind::Disc => {
                let was_open = self.is_open(dlci);
                let kind = if was_open { Kind::Ua } else { Kind::Dm };
                self.send(Frame::empty(dlci, kind, frame.pf, true));
                if dlci == 0 {
                    self.leave("DISC on DLCI 0");
                } else if let Some(open) = self
                    .mux
                    .as_mut()
                    .and_then(|m| m.open.get_mut(usize::from(dlci)))
                {
                    *open = false;
                    self.trace(format!("DLCI {dlci} closed"));
                }
            }
            Kind::Uih | Kind::Ui => {
                if !self.is_open(dlci) {
                    self.trace(format!("data on closed DLCI {dlci} dropped"));
                } else if dlci == 0 {
                    self.control(&frame.info);
                } else if let Some(port) = port_of(dlci) {
                    modem.input(port, &frame.info, now);
                    self.collect(modem);
                }
            }
            Kind::Ua | Kind::Dm => {}
        }
    }

    /// Control messages of DLCI 0.
    fn control(&mut self, info: &[u8]) {
        let messages = match Message::decode_all(info) {
            Ok(m) => m,
            Err(e) => {
                self.trace(format!("bad control message: {e}"));
                return;
            }
        };
        for message in messages {
            if !message.command {
                continue;
            }
            let (reply, leave) = match message.body {
                Body::Cld => (Message::response(Body::Cld), true),
                body @ (Body::Msc(_) | Body::Pn(_) | Body::Test(_) | Body::FcOn | Body::FcOff) => {
                    (Message::response(body), false)
                }
                other => {
                    let kind = other.kind() | cellular_core::cmux::CR;
                    (Message::response(Body::Nsc(kind)), false)
                }
            };
            self.send(Frame::uih(0, false, reply.encode()));
            if leave {
                self.leave("CLD");
                return;
            }
        }
    }

    fn leave(&mut self, why: &str) {
        self.mux = None;
        self.trace(format!("{why}: CMUX off, plain AT"));
    }
}

#[cfg(test)]
mod tests;
