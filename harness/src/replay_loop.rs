//! The replay loop shared by every line grammar and by the journal: which book to replay
//! through ([`BookKind`]), the loop that numbers commands, formats their events into a
//! reused buffer and writes it in chunks ([`replay_lines`], [`replay`]), and what it does
//! when the reader closes the pipe. It sits below `cmd/` so that the journal's state
//! machinery and the stress gate can use it; `flowmatch replay` is one caller.

use crate::text::{self, CommandReader, ReadError};
use flowmatch_core::{Event, OrderBook, Sink};
use std::io::{self, BufRead, Write};

/// Which book implementation to replay through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BookKind {
    /// The product: the fast book.
    Fast,
    /// The plain reference book (test oracle).
    Reference,
}

/// Why a replay stopped early.
#[derive(Debug)]
pub enum ReplayError {
    /// The input was malformed or unreadable (exit 2).
    Input(ReadError),
    /// The output could not be written (exit 1).
    Output(io::Error),
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayError::Input(e) => write!(f, "{e}"),
            ReplayError::Output(e) => write!(f, "cannot write events: {e}"),
        }
    }
}

/// Formats events into a reused text buffer, tagged with the current command index.
struct TextSink<'a> {
    buf: &'a mut String,
    seq: u64,
}

impl Sink<Event> for TextSink<'_> {
    #[inline]
    fn event(&mut self, e: Event) {
        // Writing into a String cannot fail.
        let _ = text::write_event(self.buf, self.seq, &e);
    }
}

/// Flush the text buffer to the writer once it holds this much.
const CHUNK: usize = 1 << 16;

/// What a replay did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// Commands applied to the book.
    pub commands: u64,
    /// The reader of the events closed the pipe (`| head`); later events were discarded.
    pub output_closed: bool,
}

/// What to do when the reader of the events closes the pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnClosedOutput {
    /// Stop reading commands: nobody wants anything more.
    Stop,
    /// Apply the rest of the commands without output (the final book is still wanted).
    Finish,
}

fn is_closed_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// Replay every command of `input` through `book`, writing event lines to `out`.
/// On a malformed line, the events of the earlier commands are written and flushed before
/// the error is returned. A write that fails because the reader closed the pipe is not an
/// error: see [`OnClosedOutput`].
pub fn replay<B: OrderBook, R: BufRead, W: Write>(
    book: &mut B,
    input: R,
    out: &mut W,
    on_closed: OnClosedOutput,
) -> Result<Replayed, ReplayError> {
    replay_lines(
        CommandReader::new(input),
        out,
        on_closed,
        |seq, cmd, buf| {
            book.apply(&cmd, &mut TextSink { buf, seq });
        },
    )
}

/// The one replay loop, for any line grammar: numbers the commands from 1, lets `apply`
/// write the events of each into the text buffer, and writes the buffer to `out` in
/// chunks of [`CHUNK`] bytes and once at the end (flushed). The contract of [`replay`] on
/// errors and closed pipes is this function's.
pub fn replay_lines<T, W: Write>(
    items: impl Iterator<Item = Result<(usize, T), ReadError>>,
    out: &mut W,
    on_closed: OnClosedOutput,
    mut apply: impl FnMut(u64, T, &mut String),
) -> Result<Replayed, ReplayError> {
    let mut buf = String::with_capacity(CHUNK + 4096);
    let mut done = Replayed {
        commands: 0,
        output_closed: false,
    };
    // Writes `buf` unless the pipe is already closed; records a close.
    let mut emit = |buf: &mut String,
                    done: &mut Replayed,
                    flush: bool|
     -> Result<(), ReplayError> {
        if !done.output_closed {
            let written =
                out.write_all(buf.as_bytes())
                    .and_then(|()| if flush { out.flush() } else { Ok(()) });
            match written {
                Ok(()) => {}
                Err(e) if is_closed_pipe(&e) => done.output_closed = true,
                Err(e) => return Err(ReplayError::Output(e)),
            }
        }
        buf.clear();
        Ok(())
    };
    let mut result = Ok(());
    for item in items {
        match item {
            Ok((_line, cmd)) => {
                done.commands += 1;
                apply(done.commands, cmd, &mut buf);
                if buf.len() >= CHUNK {
                    emit(&mut buf, &mut done, false)?;
                    if done.output_closed && on_closed == OnClosedOutput::Stop {
                        return Ok(done);
                    }
                }
            }
            Err(e) => {
                result = Err(ReplayError::Input(e));
                break;
            }
        }
    }
    emit(&mut buf, &mut done, true)?;
    result.map(|()| done)
}
