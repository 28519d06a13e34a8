//! The post-mortem workflow as a state machine, independent of any front end.
