//! Sans-IO ESP datapath (RFC 4303).
