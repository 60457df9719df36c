#!/usr/bin/env python3
"""NGAP golden vectors for n3iwf, described in pycrate's value notation and encoded by pycrate.

Every message the N3IWF sends or accepts is written here, by hand, from its meaning: the same
values as the samples of n3iwf/tests/ngap/samples.rs, which are written separately in Rust.
pycrate (from PyPI) carries its own NGAP ASN.1 and aligned-PER codec, so it is an encoder and
decoder independent of ours.

    ngap_vectors.py write DIR        encode each message to DIR/<name>.hex
    ngap_vectors.py transfers        print the transfers the samples carry, encoded
    ngap_vectors.py check FILE       FILE has lines "<name> <hex>" (our encodings): decode each
                                     with pycrate, compare with the value here, and check that
                                     pycrate encodes it back to the same octets
    ngap_vectors.py check-transfers FILE
                                     the same for the transfers of TRANSFER_VALUES, each decoded
                                     as its own type (NGAP_IEs.<type>)
"""

import sys

from pycrate_asn1dir import NGAP

PDU = NGAP.NGAP_PDU_Descriptions.NGAP_PDU
IES = NGAP.NGAP_IEs

# 310-410 and 208-93 in the NGAP layout (TS 38.413 clause 9.3.3.5): digits in order, two per
# octet, low nibble first, a filler F before a 2-digit MNC.
PLMN = b"\x13\x40\x01"
PLMN2 = b"\x02\xf8\x39"
AMF_ID = 0x01_0000_0002  # above 32 bits: AMF-UE-NGAP-ID is 40 bits
RAN_ID = 7
GUAMI = {
    "pLMNIdentity": PLMN,
    "aMFRegionID": (0xCA, 8),
    "aMFSetID": (0x3F8, 10),
    "aMFPointer": (1, 6),
}
SST1 = {"s-NSSAI": {"sST": b"\x01"}}
SST1_SD = {"s-NSSAI": {"sST": b"\x01", "sD": b"\x01\x02\x03"}}
UE_ADDRESS = (0xC000020A, 32)  # 192.0.2.10
UE_LOCATION = (
    "userLocationInformationN3IWF-with-PortNumber",
    {"iPAddress": UE_ADDRESS, "portNumber": (4500).to_bytes(2, "big")},
)
KN3IWF = bytes.fromhex("00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0")

# The transfers (OCTET STRINGs holding their own APER encoding).
SETUP_REQUEST_TRANSFER = (
    "PDUSessionResourceSetupRequestTransfer",
    {
        "protocolIEs": [
            {
                "id": 139,
                "criticality": "reject",
                "value": (
                    "UPTransportLayerInformation",
                    (
                        "gTPTunnel",
                        {
                            "transportLayerAddress": (0xC0000201, 32),
                            "gTP-TEID": b"\x00\x00\x00\x01",
                        },
                    ),
                ),
            },
            {"id": 134, "criticality": "reject", "value": ("PDUSessionType", "ipv4")},
            {
                "id": 136,
                "criticality": "reject",
                "value": (
                    "QosFlowSetupRequestList",
                    [
                        {
                            "qosFlowIdentifier": 1,
                            "qosFlowLevelQosParameters": {
                                "qosCharacteristics": ("nonDynamic5QI", {"fiveQI": 9}),
                                "allocationAndRetentionPriority": {
                                    "priorityLevelARP": 8,
                                    "pre-emptionCapability": "shall-not-trigger-pre-emption",
                                    "pre-emptionVulnerability": "not-pre-emptable",
                                },
                            },
                        }
                    ],
                ),
            },
        ]
    },
)
SETUP_RESPONSE_TRANSFER = (
    "PDUSessionResourceSetupResponseTransfer",
    {
        "dLQosFlowPerTNLInformation": {
            "uPTransportLayerInformation": (
                "gTPTunnel",
                {"transportLayerAddress": (0xC0000202, 32), "gTP-TEID": b"\x00\x00\x00\x02"},
            ),
            "associatedQosFlowList": [{"qosFlowIdentifier": 1}],
        }
    },
)
UNSUCCESSFUL_TRANSFER = (
    "PDUSessionResourceSetupUnsuccessfulTransfer",
    {"cause": ("radioNetwork", "unspecified")},
)
RELEASE_COMMAND_TRANSFER = (
    "PDUSessionResourceReleaseCommandTransfer",
    {"cause": ("nas", "normal-release")},
)
RELEASE_RESPONSE_TRANSFER = ("PDUSessionResourceReleaseResponseTransfer", {})


# The transfers n3iwf/tests/ngap/transfers.rs builds with every field the facade has: a dual-stack
# UPF tunnel, a non-GBR flow and a dynamic GBR one, session AMBR, security indication, network
# instance; and the response with two QoS flows and the security result.
# 192.0.2.1 then 2001:db8::1: 160 bits (TS 38.413 clause 9.3.2.4)
UPF_DUAL = (int.from_bytes(bytes.fromhex("c0000201" "20010db8" + "00" * 11 + "01"), "big"), 160)
FULL_SETUP_REQUEST_TRANSFER = {
    "protocolIEs": [
        {
            "id": 130,
            "criticality": "reject",
            "value": (
                "PDUSessionAggregateMaximumBitRate",
                {
                    "pDUSessionAggregateMaximumBitRateDL": 100_000_000,
                    "pDUSessionAggregateMaximumBitRateUL": 50_000_000,
                },
            ),
        },
        {
            "id": 139,
            "criticality": "reject",
            "value": (
                "UPTransportLayerInformation",
                ("gTPTunnel", {"transportLayerAddress": UPF_DUAL, "gTP-TEID": b"\xde\xad\xbe\xef"}),
            ),
        },
        {"id": 134, "criticality": "reject", "value": ("PDUSessionType", "ipv4v6")},
        {
            "id": 138,
            "criticality": "reject",
            "value": (
                "SecurityIndication",
                {
                    "integrityProtectionIndication": "required",
                    "confidentialityProtectionIndication": "preferred",
                },
            ),
        },
        {"id": 129, "criticality": "reject", "value": ("NetworkInstance", 256)},
        {
            "id": 136,
            "criticality": "reject",
            "value": (
                "QosFlowSetupRequestList",
                [
                    {
                        "qosFlowIdentifier": 1,
                        "qosFlowLevelQosParameters": {
                            "qosCharacteristics": ("nonDynamic5QI", {"fiveQI": 9}),
                            "allocationAndRetentionPriority": {
                                "priorityLevelARP": 8,
                                "pre-emptionCapability": "shall-not-trigger-pre-emption",
                                "pre-emptionVulnerability": "not-pre-emptable",
                            },
                        },
                    },
                    {
                        "qosFlowIdentifier": 5,
                        "qosFlowLevelQosParameters": {
                            "qosCharacteristics": (
                                "dynamic5QI",
                                {
                                    "priorityLevelQos": 20,
                                    "packetDelayBudget": 200,
                                    "packetErrorRate": {"pERScalar": 1, "pERExponent": 2},
                                    "fiveQI": 1,
                                },
                            ),
                            "allocationAndRetentionPriority": {
                                "priorityLevelARP": 2,
                                "pre-emptionCapability": "may-trigger-pre-emption",
                                "pre-emptionVulnerability": "pre-emptable",
                            },
                            "gBR-QosInformation": {
                                "maximumFlowBitRateDL": 2_000_000,
                                "maximumFlowBitRateUL": 1_000_000,
                                "guaranteedFlowBitRateDL": 128_000,
                                "guaranteedFlowBitRateUL": 64_000,
                            },
                        },
                    },
                ],
            ),
        },
    ]
}
FULL_SETUP_RESPONSE_TRANSFER = {
    "dLQosFlowPerTNLInformation": {
        "uPTransportLayerInformation": (
            "gTPTunnel",
            {"transportLayerAddress": (0xC0000202, 32), "gTP-TEID": b"\x00\x00\x01\x02"},
        ),
        "associatedQosFlowList": [{"qosFlowIdentifier": 1}, {"qosFlowIdentifier": 5}],
    },
    "securityResult": {
        "integrityProtectionResult": "performed",
        "confidentialityProtectionResult": "performed",
    },
}
TRANSFER_VALUES = {
    "setup_request_transfer": (
        "PDUSessionResourceSetupRequestTransfer",
        FULL_SETUP_REQUEST_TRANSFER,
    ),
    "setup_response_transfer": (
        "PDUSessionResourceSetupResponseTransfer",
        FULL_SETUP_RESPONSE_TRANSFER,
    ),
}


def ie(ie_id, criticality, name, value):
    return {"id": ie_id, "criticality": criticality, "value": (name, value)}


def message(direction, code, criticality, name, ies):
    return (
        direction,
        {"procedureCode": code, "criticality": criticality, "value": (name, {"protocolIEs": ies})},
    )


def ids(criticality="reject"):
    return [
        ie(10, criticality, "AMF-UE-NGAP-ID", AMF_ID),
        ie(85, criticality, "RAN-UE-NGAP-ID", RAN_ID),
    ]


VALUES = {
    "ng_setup_request": message(
        "initiatingMessage",
        21,
        "reject",
        "NGSetupRequest",
        [
            ie(
                27,
                "reject",
                "GlobalRANNodeID",
                ("globalN3IWF-ID", {"pLMNIdentity": PLMN, "n3IWF-ID": ("n3IWF-ID", (0x0135, 16))}),
            ),
            ie(82, "ignore", "RANNodeName", "n3iwf-1"),
            ie(
                102,
                "reject",
                "SupportedTAList",
                [
                    {
                        "tAC": b"\x00\x00\x01",
                        "broadcastPLMNList": [
                            {"pLMNIdentity": PLMN, "tAISliceSupportList": [SST1, SST1_SD]},
                            {
                                "pLMNIdentity": PLMN2,
                                "tAISliceSupportList": [{"s-NSSAI": {"sST": b"\x02"}}],
                            },
                        ],
                    }
                ],
            ),
            ie(21, "ignore", "PagingDRX", "v128"),
        ],
    ),
    "ng_setup_response": message(
        "successfulOutcome",
        21,
        "reject",
        "NGSetupResponse",
        [
            ie(1, "reject", "AMFName", "amf-1"),
            ie(96, "reject", "ServedGUAMIList", [{"gUAMI": GUAMI, "backupAMFName": "amf-2"}]),
            ie(86, "ignore", "RelativeAMFCapacity", 255),
            ie(
                80,
                "reject",
                "PLMNSupportList",
                [{"pLMNIdentity": PLMN, "sliceSupportList": [SST1, SST1_SD]}],
            ),
        ],
    ),
    "ng_setup_failure": message(
        "unsuccessfulOutcome",
        21,
        "reject",
        "NGSetupFailure",
        [
            ie(15, "ignore", "Cause", ("misc", "unknown-PLMN-or-SNPN")),
            ie(107, "ignore", "TimeToWait", "v5s"),
        ],
    ),
    "initial_ue_message": message(
        "initiatingMessage",
        15,
        "ignore",
        "InitialUEMessage",
        [
            ie(85, "reject", "RAN-UE-NGAP-ID", RAN_ID),
            ie(38, "reject", "NAS-PDU", bytes.fromhex("7e004179000d0113")),
            ie(121, "reject", "UserLocationInformation", UE_LOCATION),
            ie(90, "ignore", "RRCEstablishmentCause", "mo-Signalling"),
            ie(
                26,
                "reject",
                "FiveG-S-TMSI",
                {"aMFSetID": (0x3F8, 10), "aMFPointer": (1, 6), "fiveG-TMSI": b"\xde\xad\xbe\xef"},
            ),
            ie(112, "ignore", "UEContextRequest", "requested"),
            ie(0, "reject", "AllowedNSSAI", [SST1]),
            ie(174, "ignore", "PLMNIdentity", PLMN),
        ],
    ),
    "downlink_nas_transport": message(
        "initiatingMessage",
        4,
        "ignore",
        "DownlinkNASTransport",
        ids()
        + [
            ie(38, "reject", "NAS-PDU", bytes.fromhex("7e00560002")),
        ],
    ),
    "uplink_nas_transport": message(
        "initiatingMessage",
        46,
        "ignore",
        "UplinkNASTransport",
        ids()
        + [
            ie(38, "reject", "NAS-PDU", bytes.fromhex("7e00572d10")),
            # 2001:db8::a, UDP port 50000
            ie(
                121,
                "ignore",
                "UserLocationInformation",
                (
                    "userLocationInformationN3IWF-with-PortNumber",
                    {
                        "iPAddress": (0x2001_0DB8_0000_0000_0000_0000_0000_000A, 128),
                        "portNumber": (50000).to_bytes(2, "big"),
                    },
                ),
            ),
        ],
    ),
    "nas_non_delivery_indication": message(
        "initiatingMessage",
        19,
        "ignore",
        "NASNonDeliveryIndication",
        ids()
        + [
            ie(38, "ignore", "NAS-PDU", bytes.fromhex("7e0211223344017e0042")),
            ie(15, "ignore", "Cause", ("radioNetwork", "radio-connection-with-ue-lost")),
        ],
    ),
    "initial_context_setup_request": message(
        "initiatingMessage",
        14,
        "reject",
        "InitialContextSetupRequest",
        ids()
        + [
            ie(
                110,
                "reject",
                "UEAggregateMaximumBitRate",
                {
                    "uEAggregateMaximumBitRateDL": 1_000_000_000,
                    "uEAggregateMaximumBitRateUL": 500_000_000,
                },
            ),
            ie(28, "reject", "GUAMI", GUAMI),
            ie(
                71,
                "reject",
                "PDUSessionResourceSetupListCxtReq",
                [
                    {
                        "pDUSessionID": 1,
                        "s-NSSAI": {"sST": b"\x01"},
                        "pDUSessionResourceSetupRequestTransfer": SETUP_REQUEST_TRANSFER,
                    }
                ],
            ),
            ie(0, "reject", "AllowedNSSAI", [SST1]),
            ie(
                119,
                "reject",
                "UESecurityCapabilities",
                {
                    "nRencryptionAlgorithms": (0xE000, 16),
                    "nRintegrityProtectionAlgorithms": (0xE000, 16),
                    "eUTRAencryptionAlgorithms": (0xE000, 16),
                    "eUTRAintegrityProtectionAlgorithms": (0xE000, 16),
                },
            ),
            ie(94, "reject", "SecurityKey", (int.from_bytes(KN3IWF, "big"), 256)),
            ie(38, "ignore", "NAS-PDU", bytes.fromhex("7e0201020304017e004201")),
        ],
    ),
    "initial_context_setup_response": message(
        "successfulOutcome",
        14,
        "reject",
        "InitialContextSetupResponse",
        ids("ignore")
        + [
            ie(
                72,
                "ignore",
                "PDUSessionResourceSetupListCxtRes",
                [
                    {
                        "pDUSessionID": 1,
                        "pDUSessionResourceSetupResponseTransfer": SETUP_RESPONSE_TRANSFER,
                    }
                ],
            ),
            ie(
                55,
                "ignore",
                "PDUSessionResourceFailedToSetupListCxtRes",
                [
                    {
                        "pDUSessionID": 2,
                        "pDUSessionResourceSetupUnsuccessfulTransfer": UNSUCCESSFUL_TRANSFER,
                    }
                ],
            ),
        ],
    ),
    "initial_context_setup_failure": message(
        "unsuccessfulOutcome",
        14,
        "reject",
        "InitialContextSetupFailure",
        ids("ignore")
        + [
            ie(15, "ignore", "Cause", ("radioNetwork", "failure-in-radio-interface-procedure")),
        ],
    ),
    "ue_context_release_request": message(
        "initiatingMessage",
        42,
        "ignore",
        "UEContextReleaseRequest",
        ids()
        + [
            ie(
                133,
                "reject",
                "PDUSessionResourceListCxtRelReq",
                [{"pDUSessionID": 1}, {"pDUSessionID": 5}],
            ),
            ie(15, "ignore", "Cause", ("radioNetwork", "radio-connection-with-ue-lost")),
        ],
    ),
    "ue_context_release_command": message(
        "initiatingMessage",
        41,
        "reject",
        "UEContextReleaseCommand",
        [
            ie(
                114,
                "reject",
                "UE-NGAP-IDs",
                ("uE-NGAP-ID-pair", {"aMF-UE-NGAP-ID": AMF_ID, "rAN-UE-NGAP-ID": RAN_ID}),
            ),
            ie(15, "ignore", "Cause", ("nas", "normal-release")),
        ],
    ),
    "ue_context_release_complete": message(
        "successfulOutcome",
        41,
        "reject",
        "UEContextReleaseComplete",
        ids("ignore")
        + [
            ie(121, "ignore", "UserLocationInformation", UE_LOCATION),
            ie(60, "reject", "PDUSessionResourceListCxtRelCpl", [{"pDUSessionID": 1}]),
        ],
    ),
    "error_indication": message(
        "initiatingMessage",
        9,
        "ignore",
        "ErrorIndication",
        ids("ignore")
        + [
            ie(15, "ignore", "Cause", ("protocol", "abstract-syntax-error-reject")),
            ie(
                19,
                "ignore",
                "CriticalityDiagnostics",
                {
                    "procedureCode": 4,
                    "triggeringMessage": "initiating-message",
                    "procedureCriticality": "ignore",
                    "iEsCriticalityDiagnostics": [
                        {"iECriticality": "reject", "iE-ID": 900, "typeOfError": "not-understood"}
                    ],
                },
            ),
        ],
    ),
    "ng_reset": message(
        "initiatingMessage",
        20,
        "reject",
        "NGReset",
        [
            ie(15, "ignore", "Cause", ("misc", "om-intervention")),
            ie(
                88,
                "reject",
                "ResetType",
                (
                    "partOfNG-Interface",
                    [{"aMF-UE-NGAP-ID": AMF_ID, "rAN-UE-NGAP-ID": RAN_ID}, {"rAN-UE-NGAP-ID": 9}],
                ),
            ),
        ],
    ),
    "ng_reset_all": message(
        "initiatingMessage",
        20,
        "reject",
        "NGReset",
        [
            ie(15, "ignore", "Cause", ("transport", "transport-resource-unavailable")),
            ie(88, "reject", "ResetType", ("nG-Interface", "reset-all")),
        ],
    ),
    "ng_reset_acknowledge": message(
        "successfulOutcome",
        20,
        "reject",
        "NGResetAcknowledge",
        [
            ie(
                111,
                "ignore",
                "UE-associatedLogicalNG-connectionList",
                [{"aMF-UE-NGAP-ID": AMF_ID, "rAN-UE-NGAP-ID": RAN_ID}],
            ),
        ],
    ),
    "amf_configuration_update": message(
        "initiatingMessage",
        0,
        "reject",
        "AMFConfigurationUpdate",
        [
            ie(1, "reject", "AMFName", "amf-1b"),
            ie(96, "reject", "ServedGUAMIList", [{"gUAMI": GUAMI}]),
            ie(86, "ignore", "RelativeAMFCapacity", 10),
            ie(
                80,
                "reject",
                "PLMNSupportList",
                [
                    {
                        "pLMNIdentity": PLMN2,
                        "sliceSupportList": [{"s-NSSAI": {"sST": b"\x02", "sD": b"\xaa\xbb\xcc"}}],
                    }
                ],
            ),
        ],
    ),
    "amf_configuration_update_acknowledge": message(
        "successfulOutcome", 0, "reject", "AMFConfigurationUpdateAcknowledge", []
    ),
    "amf_status_indication": message(
        "initiatingMessage",
        1,
        "ignore",
        "AMFStatusIndication",
        [
            ie(
                120,
                "reject",
                "UnavailableGUAMIList",
                [
                    {
                        "gUAMI": GUAMI,
                        "timerApproachForGUAMIRemoval": "apply-timer",
                        "backupAMFName": "amf-2",
                    }
                ],
            ),
        ],
    ),
    "pdu_session_resource_setup_request": message(
        "initiatingMessage",
        29,
        "reject",
        "PDUSessionResourceSetupRequest",
        ids()
        + [
            ie(
                74,
                "reject",
                "PDUSessionResourceSetupListSUReq",
                [
                    {
                        "pDUSessionID": 5,
                        "pDUSessionNAS-PDU": bytes.fromhex(
                            "7e0068010005 2e0501c2".replace(" ", "")
                        ),
                        "s-NSSAI": {"sST": b"\x01", "sD": b"\x01\x02\x03"},
                        "pDUSessionResourceSetupRequestTransfer": SETUP_REQUEST_TRANSFER,
                    }
                ],
            ),
        ],
    ),
    "pdu_session_resource_setup_response": message(
        "successfulOutcome",
        29,
        "reject",
        "PDUSessionResourceSetupResponse",
        ids("ignore")
        + [
            ie(
                75,
                "ignore",
                "PDUSessionResourceSetupListSURes",
                [
                    {
                        "pDUSessionID": 5,
                        "pDUSessionResourceSetupResponseTransfer": SETUP_RESPONSE_TRANSFER,
                    }
                ],
            ),
        ],
    ),
    "pdu_session_resource_release_command": message(
        "initiatingMessage",
        28,
        "reject",
        "PDUSessionResourceReleaseCommand",
        ids()
        + [
            ie(38, "ignore", "NAS-PDU", bytes.fromhex("7e00680100042e0501d3")),
            ie(
                79,
                "reject",
                "PDUSessionResourceToReleaseListRelCmd",
                [
                    {
                        "pDUSessionID": 5,
                        "pDUSessionResourceReleaseCommandTransfer": RELEASE_COMMAND_TRANSFER,
                    }
                ],
            ),
        ],
    ),
    "pdu_session_resource_release_response": message(
        "successfulOutcome",
        28,
        "reject",
        "PDUSessionResourceReleaseResponse",
        ids("ignore")
        + [
            ie(
                70,
                "ignore",
                "PDUSessionResourceReleasedListRelRes",
                [
                    {
                        "pDUSessionID": 5,
                        "pDUSessionResourceReleaseResponseTransfer": RELEASE_RESPONSE_TRANSFER,
                    }
                ],
            ),
            ie(121, "ignore", "UserLocationInformation", UE_LOCATION),
        ],
    ),
}


def encode(value):
    PDU.set_val(value)
    return PDU.to_aper()


def write(directory):
    for name, value in VALUES.items():
        with open(f"{directory}/{name}.hex", "w") as out:
            out.write(f"# {name}: encoded by pycrate 0.8.1 (pycrate_asn1dir.NGAP) from the value\n")
            out.write("# of the same name in n3iwf/tests/pycrate/ngap_vectors.py\n")
            out.write(encode(value).hex() + "\n")


def transfers():
    for name, (type_name, value) in [
        ("setup request", SETUP_REQUEST_TRANSFER),
        ("setup response", SETUP_RESPONSE_TRANSFER),
        ("unsuccessful", UNSUCCESSFUL_TRANSFER),
        ("release command", RELEASE_COMMAND_TRANSFER),
        ("release response", RELEASE_RESPONSE_TRANSFER),
    ]:
        obj = getattr(IES, type_name.replace("-", "_"))
        obj.set_val(value)
        print(f"{name}: {obj.to_aper().hex()}")


def check(path, codec_of=lambda name: PDU, values=VALUES):
    failures = 0
    for line in open(path):
        name, octets = line.split()
        octets = bytes.fromhex(octets)
        codec = codec_of(name)
        try:
            codec.from_aper(octets)
            decoded, again = codec.get_val(), codec.to_aper()
        except Exception as error:  # pycrate raises its own error types
            print(f"{name}: pycrate cannot decode: {error}")
            failures += 1
            continue
        if decoded != values[name]:
            print(f"{name}: pycrate decodes\n  {decoded}\nwhere we meant\n  {values[name]}")
            failures += 1
        elif again != octets:
            print(f"{name}: pycrate encodes the same value as {again.hex()}")
            failures += 1
        else:
            print(f"{name}: ok")
    return failures


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "write" and len(sys.argv) == 3:
        write(sys.argv[2])
    elif command == "transfers":
        transfers()
    elif command == "check" and len(sys.argv) == 3:
        sys.exit(1 if check(sys.argv[2]) else 0)
    elif command == "check-transfers" and len(sys.argv) == 3:
        codec_of = lambda name: getattr(IES, TRANSFER_VALUES[name][0])
        values = {name: value for name, (_, value) in TRANSFER_VALUES.items()}
        sys.exit(1 if check(sys.argv[2], codec_of, values) else 0)
    else:
        sys.exit(__doc__)
