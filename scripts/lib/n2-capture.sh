# tshark checks of an N2 capture (SCTP, raw or over UDP 9899, carrying NGAP), shared by the
# test sections that capture N2. Set N2_PCAP to the capture file before calling them.

# tshark_fields FILTER FIELD...: one line per packet (occurrences joined by commas).
tshark_fields() {
    local filter=$1
    shift
    local args=() f
    for f in "$@"; do args+=(-e "$f"); done
    tshark -r "$N2_PCAP" -o sctp.checksum:CRC-32C -d udp.port==9899,sctp \
        -Y "$filter" -T fields -E occurrence=a -E aggregator=, "${args[@]}" 2>/dev/null
}

# count FILTER: the packets that match.
count() {
    tshark_fields "$1" frame.number | wc -l
}

nothing_malformed() {
    local bad
    bad=$(count "_ws.malformed || _ws.expert.severity == error")
    echo "   malformed or erroneous packets: $bad"
    [ "$bad" -eq 0 ]
}

checksums_valid() {
    local all good
    all=$(count "sctp")
    good=$(count "sctp.checksum.status == 1")
    echo "   SCTP packets: $all, CRC32c verified good: $good"
    [ "$all" -gt 0 ] && [ "$all" -eq "$good" ]
}
