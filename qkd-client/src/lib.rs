//! ETSI GS QKD 014 V1.1.1 REST client and KME simulator.
