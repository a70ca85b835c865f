//! User data in encoded video, written after the encoder: H.264 and HEVC user-data-unregistered
//! SEI messages (payload type 5) and AV1 metadata OBUs of an unregistered user-private type,
//! each a 16-byte UUID followed by the payload. The bitstream work here is pure (bytes in, bytes
//! out) and tested by exact output; [`SeiInsert`] is the task that applies it to every packet an
//! encoder (libavcodec's or an external program) hands its muxer, so every encoder carries user
//! data the same way.
//!
//! The latency record is one such message ([`LATENCY_UUID`]): the wall-clock time, in
//! microseconds since the Unix epoch, at which each stage of the core handled the frame.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::media::{MuxItem, MuxPacket};
use crate::task::{Sink, Task, TaskStats};

/// The UUID of rdbench's latency record in an output's bitstream.
pub const LATENCY_UUID: [u8; 16] = *b"rdbench-latency1";

/// The UUID of the in-flight stage times rdbench attaches to decoded frames (never written to a
/// bitstream: the encode stage takes them off).
pub const STAMP_UUID: [u8; 16] = *b"rdbench-stamp-v1";

/// AV1 metadata type used for user data: the first of the unregistered user-private types.
pub const AV1_METADATA_USER_PRIVATE: u8 = 6;

/// The largest payload one message may carry.
pub const MAX_PAYLOAD: usize = 65_536;

/// A codec whose bitstream takes user data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeiCodec {
    /// H.264: SEI NAL units (type 6).
    H264,
    /// HEVC: prefix SEI NAL units (type 39).
    Hevc,
    /// AV1: metadata OBUs.
    Av1,
}

impl SeiCodec {
    /// The codec of a libavcodec codec id, if it takes user data.
    pub fn from_codec_id(id: ffmpeg_next::codec::Id) -> Option<SeiCodec> {
        use ffmpeg_next::codec::Id;
        match id {
            Id::H264 => Some(SeiCodec::H264),
            Id::HEVC => Some(SeiCodec::Hevc),
            Id::AV1 => Some(SeiCodec::Av1),
            _ => None,
        }
    }
}

/// How the NAL units of an H.264/HEVC packet are delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NalFraming {
    /// Start codes (Annex B), as encoders and MPEG-TS write them.
    AnnexB,
    /// A big-endian length of this many bytes before each unit (MP4, Matroska).
    Length(u8),
}

impl NalFraming {
    /// The framing of packets whose stream carries `extradata`: an avcC/hvcC record (first byte
    /// 1) gives the length size; anything else means start codes.
    pub fn from_extradata(codec: SeiCodec, extradata: &[u8]) -> NalFraming {
        match (codec, extradata.first()) {
            (SeiCodec::H264, Some(1)) if extradata.len() >= 5 => {
                NalFraming::Length((extradata[4] & 3) + 1)
            }
            (SeiCodec::Hevc, Some(1)) if extradata.len() >= 22 => {
                NalFraming::Length((extradata[21] & 3) + 1)
            }
            _ => NalFraming::AnnexB,
        }
    }
}

/// One user-data message: a UUID and its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserData {
    /// Identifies the payload's owner and format.
    pub uuid: [u8; 16],
    /// The payload.
    pub payload: Vec<u8>,
}

impl UserData {
    /// The message from the bytes of a user-data-unregistered SEI payload (UUID then data).
    pub fn from_bytes(b: &[u8]) -> Option<UserData> {
        (b.len() >= 16).then(|| UserData {
            uuid: b[..16].try_into().expect("16 bytes"),
            payload: b[16..].to_vec(),
        })
    }

    /// UUID then payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.uuid.to_vec();
        v.extend_from_slice(&self.payload);
        v
    }

    /// The UUID in its usual text form.
    pub fn uuid_text(&self) -> String {
        uuid_text(&self.uuid)
    }
}

impl UserData {
    /// The payload as text, when it is printable UTF-8 (a C string's final NUL left out).
    pub fn text(&self) -> Option<&str> {
        let p = self.payload.strip_suffix(&[0]).unwrap_or(&self.payload);
        std::str::from_utf8(p)
            .ok()
            .filter(|t| !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'))
    }

    /// The payload in hex digits.
    pub fn hex(&self) -> String {
        self.payload.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Serialize for UserData {
    /// `{ "uuid": "8-4-4-4-12", "hex": "...", "text": "..." }` (text when printable).
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("UserData", 3)?;
        st.serialize_field("uuid", &self.uuid_text())?;
        st.serialize_field("hex", &self.hex())?;
        st.serialize_field("text", &self.text())?;
        st.end()
    }
}

/// `8-4-4-4-12` hex digits.
pub fn uuid_text(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Parses a UUID: 32 hex digits, dashes anywhere ignored.
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let digits: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
    if digits.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in digits.chunks(2).enumerate() {
        let t = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(t, 16).ok()?;
    }
    Some(out)
}

/// Inserts emulation-prevention bytes: a 0x03 after every two zero bytes that precede a byte of
/// 3 or less.
pub fn escape(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 64 + 2);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

/// Removes emulation-prevention bytes.
pub fn unescape(ebsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ebsp.len());
    let mut zeros = 0;
    for &b in ebsp {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

/// The SEI payload-type or payload-size coding: 0xFF per 255, then the rest.
fn sei_number(mut n: usize, out: &mut Vec<u8>) {
    while n >= 255 {
        out.push(0xff);
        n -= 255;
    }
    out.push(n as u8);
}

/// One SEI NAL unit (header included, no start code or length) holding a user-data-unregistered
/// message for each of `messages`.
pub fn sei_nal(codec: SeiCodec, messages: &[UserData]) -> Vec<u8> {
    let mut rbsp = Vec::new();
    for m in messages {
        sei_number(5, &mut rbsp);
        sei_number(16 + m.payload.len(), &mut rbsp);
        rbsp.extend_from_slice(&m.uuid);
        rbsp.extend_from_slice(&m.payload);
    }
    rbsp.push(0x80);
    let mut nal = match codec {
        SeiCodec::H264 => vec![0x06],
        // Prefix SEI (39), layer 0, temporal id 0.
        SeiCodec::Hevc => vec![39 << 1, 0x01],
        SeiCodec::Av1 => unreachable!("AV1 carries metadata OBUs"),
    };
    nal.extend(escape(&rbsp));
    nal
}

/// AV1's leb128.
fn leb128(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn read_leb128(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &x) in b.iter().take(8).enumerate() {
        v |= ((x & 0x7f) as u64) << (7 * i);
        if x & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// An AV1 metadata OBU (with its size field) of the user-private type holding `m`.
pub fn av1_metadata_obu(m: &UserData) -> Vec<u8> {
    let mut payload = Vec::with_capacity(m.payload.len() + 18);
    leb128(AV1_METADATA_USER_PRIVATE as u64, &mut payload);
    payload.extend_from_slice(&m.uuid);
    payload.extend_from_slice(&m.payload);
    payload.push(0x80); // trailing bits
    let mut obu = vec![(5 << 3) | 0x02]; // OBU_METADATA, has_size_field
    leb128(payload.len() as u64, &mut obu);
    obu.extend(payload);
    obu
}

/// The NAL units of an H.264/HEVC packet: (offset of the unit's header, its length).
fn nal_units(data: &[u8], framing: NalFraming) -> Option<Vec<(usize, usize)>> {
    let mut units = Vec::new();
    match framing {
        NalFraming::Length(n) => {
            let n = n as usize;
            let mut i = 0;
            while i < data.len() {
                if i + n > data.len() {
                    return None;
                }
                let len = data[i..i + n]
                    .iter()
                    .fold(0usize, |a, &b| (a << 8) | b as usize);
                if i + n + len > data.len() {
                    return None;
                }
                units.push((i + n, len));
                i += n + len;
            }
        }
        NalFraming::AnnexB => {
            // Start positions of every unit (just past a 00 00 01).
            let mut starts = Vec::new();
            let mut i = 0;
            while i + 2 < data.len() {
                if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
                    starts.push(i + 3);
                    i += 3;
                } else {
                    i += 1;
                }
            }
            for (k, &s) in starts.iter().enumerate() {
                let mut end = starts.get(k + 1).map_or(data.len(), |&n| n - 3);
                // Zero bytes before the next start code (its leading zero) belong to no unit.
                while end > s && data[end - 1] == 0 && k + 1 < starts.len() {
                    end -= 1;
                }
                units.push((s, end - s));
            }
        }
    }
    Some(units)
}

/// Whether the H.264/HEVC unit with first header byte `b` is a picture's slice (VCL).
fn is_vcl(codec: SeiCodec, b: u8) -> bool {
    match codec {
        SeiCodec::H264 => matches!(b & 0x1f, 1..=5),
        SeiCodec::Hevc => (b >> 1) & 0x3f < 32,
        SeiCodec::Av1 => false,
    }
}

/// Where a unit inserted before the picture goes: the start (start code or length field
/// included) of the first VCL unit, so it follows any access-unit delimiter, parameter sets
/// and the encoder's own SEI (a buffering-period message must stay first).
fn insertion_point(data: &[u8], codec: SeiCodec, framing: NalFraming) -> Option<usize> {
    let units = nal_units(data, framing)?;
    let (first_vcl, _) = *units
        .iter()
        .find(|(o, l)| *l > 0 && is_vcl(codec, data[*o]))?;
    Some(match framing {
        NalFraming::Length(n) => first_vcl - n as usize,
        NalFraming::AnnexB => {
            let mut s = first_vcl - 3;
            // A four-byte start code's extra zero goes with the unit.
            if s > 0 && data[s - 1] == 0 {
                s -= 1;
            }
            s
        }
    })
}

/// The OBUs of an AV1 packet: (type, offset of the OBU's first byte, its total length).
fn obus(data: &[u8]) -> Option<Vec<(u8, usize, usize)>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let h = data[i];
        let kind = (h >> 3) & 0x0f;
        let ext = h & 0x04 != 0;
        let has_size = h & 0x02 != 0;
        let mut p = i + 1 + ext as usize;
        let len = if has_size {
            let (v, n) = read_leb128(data.get(p..)?)?;
            p += n;
            v as usize
        } else {
            data.len().checked_sub(p)?
        };
        let end = p.checked_add(len)?;
        if end > data.len() {
            return None;
        }
        out.push((kind, i, end - i));
        i = end;
    }
    Some(out)
}

/// `data` (one encoded picture) with `messages` added, or `None` when the packet cannot be
/// parsed (it is then left alone) or holds no picture.
pub fn insert(
    data: &[u8],
    codec: SeiCodec,
    framing: NalFraming,
    messages: &[UserData],
) -> Option<Vec<u8>> {
    if messages.is_empty() {
        return None;
    }
    match codec {
        SeiCodec::H264 | SeiCodec::Hevc => {
            let at = insertion_point(data, codec, framing)?;
            let nal = sei_nal(codec, messages);
            let mut out = Vec::with_capacity(data.len() + nal.len() + 4);
            out.extend_from_slice(&data[..at]);
            match framing {
                NalFraming::AnnexB => out.extend_from_slice(&[0, 0, 0, 1]),
                NalFraming::Length(n) => {
                    let len = (nal.len() as u64).to_be_bytes();
                    out.extend_from_slice(&len[8 - n as usize..]);
                }
            }
            out.extend_from_slice(&nal);
            out.extend_from_slice(&data[at..]);
            Some(out)
        }
        SeiCodec::Av1 => {
            // After the temporal delimiter and sequence header, before the frame's OBUs.
            let list = obus(data)?;
            let (_, at, _) = *list.iter().find(|(t, _, _)| matches!(t, 3 | 4 | 6))?;
            let mut out = Vec::with_capacity(data.len() + 64);
            out.extend_from_slice(&data[..at]);
            for m in messages {
                out.extend(av1_metadata_obu(m));
            }
            out.extend_from_slice(&data[at..]);
            Some(out)
        }
    }
}

/// The user data a packet carries, in bitstream order.
pub fn extract(data: &[u8], codec: SeiCodec, framing: NalFraming) -> Vec<UserData> {
    let mut out = Vec::new();
    match codec {
        SeiCodec::H264 | SeiCodec::Hevc => {
            let Some(units) = nal_units(data, framing) else {
                return out;
            };
            for (o, l) in units {
                let (is_sei, header) = match codec {
                    SeiCodec::H264 => (l > 0 && data[o] & 0x1f == 6, 1),
                    _ => (l > 1 && matches!((data[o] >> 1) & 0x3f, 39 | 40), 2),
                };
                if !is_sei {
                    continue;
                }
                let rbsp = unescape(&data[o + header..o + l]);
                let mut i = 0;
                // Messages until the trailing bits.
                while i < rbsp.len() && rbsp[i] != 0x80 {
                    let mut read = || {
                        let mut v = 0usize;
                        while i < rbsp.len() {
                            let b = rbsp[i];
                            i += 1;
                            v += b as usize;
                            if b != 0xff {
                                return Some(v);
                            }
                        }
                        None
                    };
                    let (Some(kind), Some(size)) = (read(), read()) else {
                        break;
                    };
                    if i + size > rbsp.len() {
                        break;
                    }
                    if kind == 5 {
                        if let Some(m) = UserData::from_bytes(&rbsp[i..i + size]) {
                            out.push(m);
                        }
                    }
                    i += size;
                }
            }
        }
        SeiCodec::Av1 => {
            let Some(list) = obus(data) else { return out };
            for (t, o, l) in list {
                if t != 5 {
                    continue;
                }
                let obu = &data[o..o + l];
                let ext = obu[0] & 0x04 != 0;
                let mut p = 1 + ext as usize;
                if obu[0] & 0x02 != 0 {
                    let Some((_, n)) = read_leb128(&obu[p..]) else {
                        continue;
                    };
                    p += n;
                }
                let Some((kind, n)) = read_leb128(&obu[p..]) else {
                    continue;
                };
                p += n;
                if kind == AV1_METADATA_USER_PRIVATE as u64 {
                    // Payload without its trailing bits (the last 0x80 and any zero bytes).
                    let mut end = obu.len();
                    while end > p && obu[end - 1] == 0 {
                        end -= 1;
                    }
                    if end > p && obu[end - 1] == 0x80 {
                        end -= 1;
                    }
                    if let Some(m) = UserData::from_bytes(&obu[p..end]) {
                        out.push(m);
                    }
                }
            }
        }
    }
    out
}

/// Microseconds since the Unix epoch, now.
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// When each stage of the core handled one frame, in microseconds since the Unix epoch (0 where
/// a stage did not record it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    /// The packet holding the frame reached the decoder.
    pub read: i64,
    /// The decoder returned the frame.
    pub decoded: i64,
    /// The output's filter returned it.
    pub filtered: i64,
    /// The encoder was handed it.
    pub encoding: i64,
    /// The encoder returned its packet.
    pub encoded: i64,
}

impl Latency {
    /// The stages in order, with their names.
    pub fn stages(&self) -> [(&'static str, i64); 5] {
        [
            ("read", self.read),
            ("decoded", self.decoded),
            ("filtered", self.filtered),
            ("encoding", self.encoding),
            ("encoded", self.encoded),
        ]
    }

    /// The record as written to the bitstream: JSON after [`LATENCY_UUID`].
    pub fn to_user_data(&self) -> UserData {
        UserData {
            uuid: LATENCY_UUID,
            payload: serde_json::to_vec(self).expect("plain struct"),
        }
    }

    /// A record read back from a bitstream message.
    pub fn from_user_data(m: &UserData) -> Option<Latency> {
        (m.uuid == LATENCY_UUID)
            .then(|| serde_json::from_slice(&m.payload).ok())
            .flatten()
    }
}

/// An in-flight stage time: which stage, when (carried on frames as [`STAMP_UUID`] side data).
pub fn stamp_bytes(stage: u8, us: i64) -> Vec<u8> {
    let mut v = STAMP_UUID.to_vec();
    v.push(stage);
    v.extend_from_slice(&us.to_le_bytes());
    v
}

/// Stage numbers of [`stamp_bytes`].
pub mod stage {
    /// Packet reached the decoder.
    pub const READ: u8 = 0;
    /// Frame left the decoder.
    pub const DECODED: u8 = 1;
    /// Frame left the output's filter.
    pub const FILTERED: u8 = 2;
}

/// What the encode stage found on one frame and hands the packet stage.
#[derive(Clone, Debug, Default)]
pub struct FrameUserData {
    /// The source's own user data (passthrough), and that of frames dropped before this one.
    pub passthrough: Vec<UserData>,
    /// The stage times, when the output records latency.
    pub latency: Option<Latency>,
}

impl FrameUserData {
    /// Sorts the unregistered-SEI side data of a frame (`entries`, UUID then payload each) into
    /// the source's user data and rdbench's own stage stamps; `encoding` is the time the frame
    /// reached the encoder.
    pub fn from_side_data(entries: Vec<Vec<u8>>, latency: bool, encoding: i64) -> FrameUserData {
        let mut out = FrameUserData {
            passthrough: Vec::new(),
            latency: latency.then(|| Latency {
                encoding,
                ..Latency::default()
            }),
        };
        for e in entries {
            if e.len() == 16 + 9 && e[..16] == STAMP_UUID {
                let us = i64::from_le_bytes(e[17..25].try_into().expect("8 bytes"));
                if let Some(l) = out.latency.as_mut() {
                    // The first stamp of a stage wins: a merged (dropped) frame's are older.
                    let slot = match e[16] {
                        stage::READ => &mut l.read,
                        stage::DECODED => &mut l.decoded,
                        _ => &mut l.filtered,
                    };
                    if *slot == 0 {
                        *slot = us;
                    }
                }
            } else if let Some(m) = UserData::from_bytes(&e) {
                out.passthrough.push(m);
            }
        }
        out
    }
}

/// Where the encode stage leaves each frame's user data for the packet stage, keyed by the
/// timestamp the frame's packet will carry.
pub type UserDataLedger = Arc<Mutex<BTreeMap<i64, FrameUserData>>>;

/// The encode stage's side of the ledger: takes the user data off each frame it is handed (so
/// no encoder writes it itself) and leaves it for the packet stage.
#[derive(Clone, Debug)]
pub struct Capture {
    /// Shared with the output's [`SeiInsert`].
    pub ledger: UserDataLedger,
    /// The output writes latency records.
    pub latency: bool,
}

/// Entries kept for packets still to come; more means the encoder's packets carry other
/// timestamps than its frames, and the oldest go.
const LEDGER_CAP: usize = 512;

impl Capture {
    /// A capture with its own ledger.
    pub fn new(latency: bool) -> Capture {
        Capture {
            ledger: Arc::new(Mutex::new(BTreeMap::new())),
            latency,
        }
    }

    /// Takes the user data off `frame`, whose packet will carry timestamp `key`.
    pub fn record(&self, key: i64, frame: &mut ffmpeg_next::frame::Video) {
        let entries = crate::media::take_user_data(frame);
        let found = FrameUserData::from_side_data(entries, self.latency, now_us());
        if found.passthrough.is_empty() && found.latency.is_none() {
            return;
        }
        let mut l = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        l.insert(key, found);
        while l.len() > LEDGER_CAP {
            l.pop_first();
        }
    }
}

/// When a configured message is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Every {
    /// On the first picture only.
    First,
    /// On every keyframe.
    Keyframe,
    /// On every picture.
    Frame,
}

impl Every {
    /// Parses `first`, `keyframe` or `frame`.
    pub fn parse(s: &str) -> Option<Every> {
        match s {
            "first" => Some(Every::First),
            "keyframe" => Some(Every::Keyframe),
            "frame" => Some(Every::Frame),
            _ => None,
        }
    }
}

/// What an output writes after its encoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeiPlan {
    /// Messages from the job, and when each is written.
    pub messages: Vec<(UserData, Every)>,
    /// Carry the user data of frames the sampler drops on the next kept frame (else drop it).
    pub merge_dropped: bool,
    /// Write a latency record on every picture.
    pub latency: bool,
}

impl Default for SeiPlan {
    fn default() -> Self {
        SeiPlan {
            messages: Vec::new(),
            merge_dropped: true,
            latency: false,
        }
    }
}

impl SeiPlan {
    /// Whether the job asked for anything (messages or latency).
    pub fn requested(&self) -> bool {
        !self.messages.is_empty() || self.latency
    }
}

/// The packet stage: adds to every picture the user data its frame brought (passthrough),
/// the job's messages and the latency record. Runs inline after the encoder.
pub struct SeiInsert {
    field: String,
    plan: SeiPlan,
    passthrough: bool,
    ledger: UserDataLedger,
    codec: Option<(SeiCodec, NalFraming)>,
    pictures: u64,
    added: u64,
    bytes: u64,
    unparsed: u64,
}

impl SeiInsert {
    /// The stage for the output at `field`.
    pub fn new(field: String, plan: SeiPlan, passthrough: bool, ledger: UserDataLedger) -> Self {
        SeiInsert {
            field,
            plan,
            passthrough,
            ledger,
            codec: None,
            pictures: 0,
            added: 0,
            bytes: 0,
            unparsed: 0,
        }
    }
}

impl Task for SeiInsert {
    type In = MuxItem;
    type Out = MuxItem;

    fn process(&mut self, item: MuxItem, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        match item {
            MuxItem::Stream {
                stream,
                params,
                time_base,
                side_data,
            } => {
                let id = params.id();
                match SeiCodec::from_codec_id(id) {
                    Some(c) => {
                        let extra = crate::media::extradata(&params);
                        self.codec = Some((c, NalFraming::from_extradata(c, &extra)));
                    }
                    None if self.plan.requested() => {
                        return Err(Error::Spec {
                            field: format!("{}.sei", self.field),
                            message: format!(
                            "{} bitstreams have no place for user data (H.264, HEVC and AV1 do)",
                            id.name()
                        ),
                        })
                    }
                    None => {}
                }
                out.push(MuxItem::Stream {
                    stream,
                    params,
                    time_base,
                    side_data,
                })
            }
            MuxItem::Packet(p) => {
                let Some((codec, framing)) = self.codec else {
                    self.ledger_take(&p);
                    return out.push(MuxItem::Packet(p));
                };
                let found = self.ledger_take(&p);
                self.pictures += 1;
                let key = p.packet.is_key();
                let mut messages: Vec<UserData> = Vec::new();
                if let Some(f) = &found {
                    if self.passthrough {
                        messages.extend(f.passthrough.iter().cloned());
                    }
                }
                for (m, every) in &self.plan.messages {
                    let due = match every {
                        Every::First => self.pictures == 1,
                        Every::Keyframe => key || self.pictures == 1,
                        Every::Frame => true,
                    };
                    if due {
                        messages.push(m.clone());
                    }
                }
                if self.plan.latency {
                    let mut l = found.and_then(|f| f.latency).unwrap_or_default();
                    l.encoded = now_us();
                    messages.push(l.to_user_data());
                }
                let Some(data) = p.packet.data() else {
                    return out.push(MuxItem::Packet(p));
                };
                match insert(data, codec, framing, &messages) {
                    Some(new) => {
                        self.added += messages.len() as u64;
                        self.bytes += (new.len() - data.len()) as u64;
                        let mut np = ffmpeg_next::Packet::copy(&new);
                        np.set_pts(p.packet.pts());
                        np.set_dts(p.packet.dts());
                        np.set_duration(p.packet.duration());
                        np.set_flags(p.packet.flags());
                        np.set_stream(p.packet.stream());
                        np.set_position(-1);
                        out.push(MuxItem::Packet(MuxPacket {
                            stream: p.stream,
                            packet: np,
                            time_base: p.time_base,
                        }))
                    }
                    None => {
                        if !messages.is_empty() {
                            self.unparsed += 1;
                        }
                        out.push(MuxItem::Packet(p))
                    }
                }
            }
        }
    }

    fn finish(&mut self, _out: &mut dyn Sink<MuxItem>) -> Result<()> {
        Ok(())
    }

    fn report(&mut self, stats: &mut TaskStats) {
        stats.bytes_out = self.bytes;
        // Messages written; packets that held no picture to attach them to are "dropped".
        stats.frames_out = self.added;
        stats.dropped = self.unparsed;
    }
}

impl SeiInsert {
    /// The user data of the frame this packet holds, taken off the ledger.
    fn ledger_take(&self, p: &MuxPacket) -> Option<FrameUserData> {
        let pts = p.packet.pts()?;
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&pts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ud(payload: &[u8]) -> UserData {
        UserData {
            uuid: parse_uuid("086f3693-b7b3-4f2c-9653-21492feee5b8").unwrap(),
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn uuids_parse_with_or_without_dashes_and_print_back() {
        let u = parse_uuid("086f3693b7b34f2c965321492feee5b8").unwrap();
        assert_eq!(uuid_text(&u), "086f3693-b7b3-4f2c-9653-21492feee5b8");
        assert_eq!(parse_uuid("086f3693-b7b3-4f2c-9653-21492feee5b"), None);
        assert_eq!(parse_uuid("zz6f3693-b7b3-4f2c-9653-21492feee5b8"), None);
    }

    #[test]
    fn emulation_prevention_is_exact_and_reverses() {
        let raw = [0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 4, 0, 0];
        let esc = escape(&raw);
        assert_eq!(esc, [0, 0, 3, 0, 0, 3, 0, 1, 0, 0, 3, 2, 0, 0, 4, 0, 0]);
        assert_eq!(unescape(&esc), raw);
    }

    #[test]
    fn an_h264_sei_nal_is_exact() {
        let nal = sei_nal(SeiCodec::H264, &[ud(b"hi")]);
        let mut want = vec![0x06, 5, 18];
        want.extend(parse_uuid("086f3693-b7b3-4f2c-9653-21492feee5b8").unwrap());
        want.extend(b"hi");
        want.push(0x80);
        assert_eq!(nal, want);
        let hevc = sei_nal(SeiCodec::Hevc, &[ud(b"hi")]);
        assert_eq!(&hevc[..4], &[0x4e, 0x01, 5, 18]);
        // Sizes of 255 and more are coded in 0xFF steps.
        let big = sei_nal(SeiCodec::H264, &[ud(&[7u8; 300])]);
        assert_eq!(&big[..4], &[0x06, 5, 0xff, 61]);
    }

    #[test]
    fn an_av1_metadata_obu_is_exact() {
        let obu = av1_metadata_obu(&ud(b"hi"));
        let mut want = vec![0x2a, 20, 6];
        want.extend(parse_uuid("086f3693-b7b3-4f2c-9653-21492feee5b8").unwrap());
        want.extend(b"hi");
        want.push(0x80);
        assert_eq!(obu, want);
    }

    /// An Annex-B H.264 access unit: AUD, SPS, PPS, the encoder's SEI, an IDR slice.
    fn h264_au() -> Vec<u8> {
        let mut v = vec![0, 0, 0, 1, 0x09, 0x10];
        v.extend([0, 0, 0, 1, 0x67, 0x42, 0x00, 0x1e]);
        v.extend([0, 0, 1, 0x68, 0xce, 0x38, 0x80]);
        v.extend([0, 0, 1, 0x06, 0x05, 0x01, 0xaa, 0x80]);
        v.extend([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01]);
        v
    }

    #[test]
    fn h264_user_data_goes_just_before_the_first_slice() {
        let au = h264_au();
        let out = insert(&au, SeiCodec::H264, NalFraming::AnnexB, &[ud(b"x")]).unwrap();
        let slice_at = au.len() - 11;
        assert_eq!(&out[..slice_at], &au[..slice_at]);
        let nal = sei_nal(SeiCodec::H264, &[ud(b"x")]);
        assert_eq!(&out[slice_at..slice_at + 4], &[0, 0, 0, 1]);
        assert_eq!(&out[slice_at + 4..slice_at + 4 + nal.len()], &nal[..]);
        assert_eq!(&out[slice_at + 4 + nal.len()..], &au[slice_at..]);
        // Read back: the encoder's own message (type 1) is skipped, ours found.
        assert_eq!(
            extract(&out, SeiCodec::H264, NalFraming::AnnexB),
            vec![ud(b"x")]
        );
        // The slice, found after the insert, is unchanged.
        let units = nal_units(&out, NalFraming::AnnexB).unwrap();
        let (o, l) = *units.last().unwrap();
        assert_eq!(&out[o..o + l], &[0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01]);
    }

    #[test]
    fn length_prefixed_units_get_a_length_prefixed_sei() {
        // HEVC: VPS (32), then a slice (type 1), four-byte lengths.
        let mut au = vec![0, 0, 0, 3, 0x40, 0x01, 0x0c];
        au.extend([0, 0, 0, 4, 0x02, 0x01, 0xd0, 0x00]);
        let out = insert(&au, SeiCodec::Hevc, NalFraming::Length(4), &[ud(b"")]).unwrap();
        let nal = sei_nal(SeiCodec::Hevc, &[ud(b"")]);
        assert_eq!(&out[..7], &au[..7]);
        assert_eq!(&out[7..11], &(nal.len() as u32).to_be_bytes());
        assert_eq!(&out[11..11 + nal.len()], &nal[..]);
        assert_eq!(&out[11 + nal.len()..], &au[7..]);
        assert_eq!(
            extract(&out, SeiCodec::Hevc, NalFraming::Length(4)),
            vec![ud(b"")]
        );
    }

    #[test]
    fn framing_comes_from_the_extradata() {
        assert_eq!(
            NalFraming::from_extradata(SeiCodec::H264, &[1, 0x64, 0, 0x1f, 0xff]),
            NalFraming::Length(4)
        );
        assert_eq!(
            NalFraming::from_extradata(SeiCodec::H264, &[0, 0, 0, 1, 0x67]),
            NalFraming::AnnexB
        );
        let mut hvcc = vec![1u8; 23];
        hvcc[21] = 0x0f;
        assert_eq!(
            NalFraming::from_extradata(SeiCodec::Hevc, &hvcc),
            NalFraming::Length(4)
        );
    }

    #[test]
    fn av1_metadata_follows_the_delimiter_and_sequence_header() {
        // Temporal delimiter, sequence header (3 bytes), frame (4 bytes).
        let tu = vec![0x12, 0x00, 0x0a, 3, 1, 2, 3, 0x32, 4, 9, 9, 9, 9];
        let out = insert(
            &tu,
            SeiCodec::Av1,
            NalFraming::AnnexB,
            &[ud(b"a"), ud(b"b")],
        )
        .unwrap();
        let a = av1_metadata_obu(&ud(b"a"));
        let b = av1_metadata_obu(&ud(b"b"));
        assert_eq!(&out[..7], &tu[..7]);
        assert_eq!(&out[7..7 + a.len()], &a[..]);
        assert_eq!(&out[7 + a.len()..7 + a.len() + b.len()], &b[..]);
        assert_eq!(&out[7 + a.len() + b.len()..], &tu[7..]);
        assert_eq!(
            extract(&out, SeiCodec::Av1, NalFraming::AnnexB),
            vec![ud(b"a"), ud(b"b")]
        );
        // Without a frame there is no picture to carry it.
        assert_eq!(
            insert(&tu[..7], SeiCodec::Av1, NalFraming::AnnexB, &[ud(b"a")]),
            None
        );
    }

    #[test]
    fn side_data_sorts_into_passthrough_and_stage_times() {
        let entries = vec![
            stamp_bytes(stage::READ, 10),
            stamp_bytes(stage::DECODED, 20),
            ud(b"user").to_bytes(),
            stamp_bytes(stage::FILTERED, 30),
            // A dropped frame's older stamps, merged in after: they do not override.
            stamp_bytes(stage::READ, 5),
        ];
        let f = FrameUserData::from_side_data(entries.clone(), true, 40);
        assert_eq!(f.passthrough, vec![ud(b"user")]);
        assert_eq!(
            f.latency.unwrap(),
            Latency {
                read: 10,
                decoded: 20,
                filtered: 30,
                encoding: 40,
                encoded: 0
            }
        );
        assert_eq!(
            FrameUserData::from_side_data(entries, false, 40).latency,
            None
        );
        let l = Latency {
            read: 1,
            decoded: 2,
            filtered: 3,
            encoding: 4,
            encoded: 5,
        };
        assert_eq!(Latency::from_user_data(&l.to_user_data()), Some(l));
    }
}
