//! Placeholder: the text command/event/book formats (being written).
