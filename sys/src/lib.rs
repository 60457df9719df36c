//! Linux TUN, UDP and raw-socket I/O for the datapath. All unsafe code lives here.
