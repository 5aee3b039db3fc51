#!/usr/bin/env python3
"""Writes the malformed-input corpus of Tests/Malformed (stdlib only, deterministic).

Run from the repository root:  python3 Tests/Malformed/make_malformed.py
Each file lands in Tests/Malformed/<reader>/ and gets one row in Tests/Malformed/manifest.tsv:

    reader <TAB> file <TAB> error kind <TAB> message fragment [<TAB> flags]

`reader` picks the entry point (Tests/SAM2RMalformedTests): checkpoint = Checkpoint(path:) (.pt
and .safetensors, chosen by content), npy = NPY.read(path:), image = decodeImage(path:), profile =
ProfileCatalog.load(path:), table = QuantTable.read(path:), table-micro = the same + validate against
the micro model (Tests/Goldens/micro), prompts = CalibrationPrompts.parse. `kind` is the error's type
and case (CheckpointError.zip, ImageIOError.corrupt, ProfileError.invalid, QuantTableError, ...). The fragment must occur in the one-line message
after "<file>: ". Flags: `multiline` marks a known defect (the reader's message embeds input text
with a line break; the test then checks everything but the single line and prints a note).
"""
import io
import os
import struct
import zipfile
import zlib

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(ROOT, "..", ".."))
rows = []


def put(reader, sub, name, data, kind, fragment, flags=""):
    os.makedirs(os.path.join(ROOT, sub), exist_ok=True)
    rel = f"{sub}/{name}"
    with open(os.path.join(ROOT, rel), "wb") as f:
        f.write(data)
    assert "\t" not in fragment and "\n" not in fragment
    rows.append("\t".join([reader, rel, kind, fragment] + ([flags] if flags else [])))


# --------------------------------------------------------------------------------------------
# Pickle building blocks (what torch.save writes, protocol 2)

def su(s):  # BINUNICODE
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def glob(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def bint(v):
    return b"J" + struct.pack("<i", v)


def lint(v):  # LONG1, 8 bytes: 64-bit values
    return b"\x8a\x08" + struct.pack("<q", v)


def tup(*items):
    return b"(" + b"".join(items) + b"t"


def tensor(key="0", dtype="FloatStorage", numel=4, offset=0, shape=(2, 2), stride=(2, 1), nargs=6):
    i = lambda v: bint(v) if -2**31 <= v < 2**31 else lint(v)
    pid = tup(su("storage"), glob("torch", dtype), su(key), su("cpu"), i(numel))
    args = [pid + b"Q", i(offset), tup(*map(i, shape)), tup(*map(i, stride)), b"\x89",
            glob("collections", "OrderedDict") + b")R"]
    args = args[:nargs] if nargs <= 6 else args + [b"N"] * (nargs - 6)
    return glob("torch._utils", "_rebuild_tensor_v2") + tup(*args) + b"R"


def state_dict(*items):
    """OrderedDict of (name, value-bytes)."""
    body = b"".join(su(k) + v for k, v in items)
    return b"\x80\x02" + glob("collections", "OrderedDict") + b")R" + (b"(" + body + b"u" if items else b"") + b"."


GOOD_PKL = state_dict(("w", tensor()))
F32x4 = struct.pack("<4f", 1, 2, 3, 4)


def torch_zip(pkl=GOOD_PKL, storages=None, extra=None, compress=zipfile.ZIP_STORED, root="archive/"):
    storages = {"0": F32x4} if storages is None else storages
    buf = io.BytesIO()
    def entry(name):  # fixed timestamps: the generator's output is byte-for-byte reproducible
        return zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))

    with zipfile.ZipFile(buf, "w", compression=compress) as z:
        z.writestr(entry(root + "data.pkl"), pkl, compress_type=compress)
        z.writestr(entry(root + "byteorder"), "little", compress_type=compress)
        for k, v in storages.items():
            z.writestr(entry(root + "data/" + k), v, compress_type=zipfile.ZIP_STORED)
        z.writestr(entry(root + "version"), "3\n", compress_type=compress)
        for name, data in (extra or {}).items():
            z.writestr(entry(name), data, compress_type=compress)
    return bytearray(buf.getvalue())


def eocd(b):
    return bytes(b).rfind(b"PK\x05\x06")


def cd(b):
    return struct.unpack_from("<I", b, eocd(b) + 16)[0]


def set32(b, off, v):
    struct.pack_into("<I", b, off, v)
    return b


def set16(b, off, v):
    struct.pack_into("<H", b, off, v)
    return b


P = "checkpoint"
K = "CheckpointError."

# A well-formed file first: the harness checks that it loads (guards the generator itself).
put(P, "pt", "control_good.pt", torch_zip(), "ok", "")

# ---- container: not a zip / zip structure
put(P, "pt", "empty.pt", b"", K + "unknownFormat", "neither a torch zip nor a safetensors file")
put(P, "pt", "text.pt", b"this is not a checkpoint\n", K + "unknownFormat", "neither a torch zip nor a safetensors file")
put(P, "pt", "legacy_pickle.pt", b"\x80\x02\x8a\x0a" + b"\x00" * 20, K + "unknownFormat", "legacy (non-zip) torch pickle")
put(P, "pt", "local_header_only.pt", b"PK\x03\x04" + b"\x00" * 10, K + "zip", "too short for a zip end record")
put(P, "pt", "no_end_record.pt", b"PK\x03\x04" + b"\x00" * 200, K + "zip", "no end-of-central-directory record")
g = torch_zip()
put(P, "pt", "truncated_half.pt", bytes(g[: len(g) // 2]), K + "zip", "no end-of-central-directory record")
b = torch_zip(); e = eocd(b); set32(b, e + 16, len(b) + 100)
put(P, "pt", "cd_offset_past_end.pt", b, K + "zip", "central directory [")
b = torch_zip(); e = eocd(b); set32(b, e + 12, 0xFFFFFFF0)
put(P, "pt", "cd_size_huge.pt", b, K + "zip", "exceeds the file")
b = torch_zip(); e = eocd(b); set16(b, e + 8, 0xFFFF); set16(b, e + 10, 0xFFFF)
put(P, "pt", "entry_count_huge.pt", b, K + "zip", "entries cannot fit in a")
b = torch_zip(); e = eocd(b); set16(b, e + 4, 1)
put(P, "pt", "multi_disk.pt", b, K + "zip", "multi-disk archives are not supported")
b = torch_zip(); e = eocd(b); b[e:e] = b"PK\x06\x07" + struct.pack("<IQI", 0, 0xFFFFFFFFFFFF, 1)
put(P, "pt", "zip64_locator_bad_offset.pt", b, K + "zip", "ZIP64 end record offset")
b = torch_zip(); e = eocd(b); b[e:e] = b"PK\x06\x07" + struct.pack("<IQI", 0, 0, 1)
put(P, "pt", "zip64_record_bad_signature.pt", b, K + "zip", "bad ZIP64 end record signature")
b = torch_zip(); set32(b, cd(b), 0x12345678)
put(P, "pt", "cd_bad_signature.pt", b, K + "zip", "central directory entry 0 has a bad signature")
b = torch_zip(); set16(b, cd(b) + 28, 0xFFFF)
put(P, "pt", "cd_name_length_overrun.pt", b, K + "zip", "name/extra/comment exceed the directory")
b = torch_zip(); set32(b, cd(b) + 42, 0x7FFFFFF0)
put(P, "pt", "local_header_offset_past_end.pt", b, K + "zip", "size or offset exceeds the file length")
b = torch_zip(); set32(b, cd(b) + 42, cd(b) - 10)
put(P, "pt", "local_header_in_directory.pt", b, K + "zip", "local header at")
b = torch_zip(); set32(b, 0, 0x04034B51)
put(P, "pt", "local_header_bad_signature.pt", b, K + "unknownFormat", "neither a torch zip nor a safetensors file")
b = torch_zip(); set16(b, cd(b) + 8, 1)
put(P, "pt", "encrypted_entry.pt", b, K + "zip", "is encrypted")
b = torch_zip(); set32(b, cd(b) + 20, 0x10)
put(P, "pt", "stored_size_mismatch.pt", b, K + "zip", "has compressed size 16")
b = torch_zip(); set32(b, cd(b) + 20, 0x100000); set32(b, cd(b) + 24, 0x100000)
put(P, "pt", "entry_data_past_end.pt", b, K + "zip", "size or offset exceeds the file length")
b = torch_zip(); b[30] ^= 0x20
put(P, "pt", "local_name_differs.pt", b, K + "zip", "local header name differs from the central directory")
b = torch_zip(); set16(b, 28, 0xFFF0)
put(P, "pt", "local_extra_overrun.pt", b, K + "zip", "local header fields out of range")
# Two central-directory records pointing at the same local header: the second is a duplicate name.
b = torch_zip(); c = cd(b); e = eocd(b); n = struct.unpack_from("<H", b, c + 28)[0]
rec = bytes(b[c:c + 46 + n]); b[e:e] = rec; e = eocd(b)
set16(b, e + 8, struct.unpack_from("<H", b, e + 8)[0] + 1); set16(b, e + 10, struct.unpack_from("<H", b, e + 10)[0] + 1)
set32(b, e + 12, struct.unpack_from("<I", b, e + 12)[0] + len(rec))
put(P, "pt", "duplicate_entry.pt", b, K + "zip", "duplicate entry 'archive/data.pkl'")
# A second record for a different name aliasing the first entry's bytes.
b = torch_zip(); c = cd(b); e = eocd(b)
rec = bytearray(b[c:c + 46 + n]); rec[46 + n - 1:46 + n] = b"X"
b[e:e] = rec; e = eocd(b)
set16(b, e + 8, struct.unpack_from("<H", b, e + 8)[0] + 1); set16(b, e + 10, struct.unpack_from("<H", b, e + 10)[0] + 1)
set32(b, e + 12, struct.unpack_from("<I", b, e + 12)[0] + len(rec))
put(P, "pt", "aliased_entries.pt", b, K + "zip", "local header name differs")
b = torch_zip(); i = bytes(b).find(b"\x80\x02"); b[i + 5] ^= 0xFF
put(P, "pt", "pickle_crc_mismatch.pt", b, K + "zip", "CRC-32 mismatch")
put(P, "pt", "compressed_pickle.pt", torch_zip(compress=zipfile.ZIP_DEFLATED), K + "compressedEntry",
    "only stored (0) entries are supported")
put(P, "pt", "bzip2_pickle.pt", torch_zip(compress=zipfile.ZIP_BZIP2), K + "compressedEntry", "(bzip2)")

# ---- torch layout
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr(zipfile.ZipInfo("archive/version", date_time=(2024, 1, 1, 0, 0, 0)), "3\n")
put(P, "pt", "no_data_pkl.pt", buf.getvalue(), K + "layout", "zip has no data.pkl (not a torch.save file)")
put(P, "pt", "two_data_pkl.pt", torch_zip(extra={"other/data.pkl": GOOD_PKL}), K + "layout", "zip has 2 data.pkl entries")
b = torch_zip(); i = bytes(b).find(b"little"); b[i:i + 6] = b"bigend"
put(P, "pt", "big_endian.pt", b, K + "layout", "byteorder 'bigend' is not supported")
put(P, "pt", "top_level_list.pt", torch_zip(b"\x80\x02]."), K + "layout", "the pickle holds a list, not a dict")
put(P, "pt", "top_level_no_tensors.pt", torch_zip(b"\x80\x02}" + su("epoch") + bint(3) + b"s."), K + "layout",
    "top-level dict has no tensors and no 'model' state_dict (keys: epoch)")
put(P, "pt", "value_not_tensor.pt", torch_zip(b"\x80\x02}" + su("model") + state_dict(("w", tensor()), ("n", bint(1)))[2:-1] + b"s."),
    K + "layout",
    "'n' is a int, not a tensor")
put(P, "pt", "key_not_string.pt", torch_zip(b"\x80\x02}(" + su("model") + b"}" + bint(1) + tensor() + b"su."), K + "layout",
    "state_dict key is a int")
put(P, "pt", "duplicate_tensor_name.pt", torch_zip(state_dict(("w", tensor()), ("w", tensor()))), K + "layout",
    "duplicate tensor name 'w'")

# ---- pickle: never executed, never trusted
put(P, "pt", "global_os_system.pt", torch_zip(b"\x80\x02" + glob("os", "system") + tup(su("touch /tmp/pwned")) + b"R."),
    K + "forbiddenGlobal", "pickle references forbidden global 'os.system' (not executed)")
put(P, "pt", "global_posix_system.pt", torch_zip(b"\x80\x02" + glob("posix", "system") + tup(su("id")) + b"R."),
    K + "forbiddenGlobal", "forbidden global 'posix.system'")
put(P, "pt", "global_builtins_exec.pt", torch_zip(b"\x80\x02" + glob("builtins", "exec") + tup(su("import os")) + b"R."),
    K + "forbiddenGlobal", "forbidden global 'builtins.exec'")
put(P, "pt", "global_torch_load.pt", torch_zip(b"\x80\x02" + glob("torch", "load") + b"."),
    K + "forbiddenGlobal", "forbidden global 'torch.load'")
put(P, "pt", "stack_global_eval.pt",
    torch_zip(b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93" + tup(su("1")) + b"R."),
    K + "forbiddenGlobal", "forbidden global 'builtins.eval'")
put(P, "pt", "opcode_inst.pt", torch_zip(b"\x80\x02(ios\nsystem\n."), K + "unsupportedOpcode",
    "unsupported pickle opcode INST (0x69 'i') at byte 3")
put(P, "pt", "opcode_obj.pt", torch_zip(b"\x80\x02(o."), K + "unsupportedOpcode", "unsupported pickle opcode OBJ (0x6F 'o')")
put(P, "pt", "opcode_newobj.pt", torch_zip(b"\x80\x02N)\x81."), K + "unsupportedOpcode", "NEWOBJ (0x81)")
put(P, "pt", "opcode_ext1.pt", torch_zip(b"\x80\x02\x82\x01."), K + "unsupportedOpcode", "EXT1 (0x82)")
put(P, "pt", "opcode_persid_text.pt", torch_zip(b"\x80\x02P0\n."), K + "unsupportedOpcode", "PERSID (0x50 'P')")
put(P, "pt", "opcode_unknown.pt", torch_zip(b"\x80\x02\xff."), K + "unsupportedOpcode", "unknown (0xFF)")
put(P, "pt", "pickle_protocol_9.pt", torch_zip(b"\x80\x09}."), K + "pickle", "unsupported protocol 9")
put(P, "pt", "pickle_empty.pt", torch_zip(b""), K + "pickle", "truncated: need 1 bytes at 0, have 0")
put(P, "pt", "pickle_no_stop.pt", torch_zip(b"\x80\x02}"), K + "pickle", "truncated")
put(P, "pt", "pickle_stack_underflow.pt", torch_zip(b"\x80\x02s."), K + "pickle", "stack underflow at byte 2")
put(P, "pt", "pickle_pop_across_mark.pt", torch_zip(b"\x80\x02}(\x85."), K + "pickle", "pop across a MARK")
put(P, "pt", "pickle_no_mark.pt", torch_zip(b"\x80\x02N."[:3] + b"t."), K + "pickle", "no MARK for opcode")
put(P, "pt", "pickle_open_mark.pt", torch_zip(b"\x80\x02(}."), K + "pickle", "STOP with an open MARK")
put(P, "pt", "pickle_two_values.pt", torch_zip(b"\x80\x02}}."), K + "pickle", "STOP with 2 values on the stack")
put(P, "pt", "pickle_truncated_string.pt", torch_zip(b"\x80\x02X\xff\xff\xff\x7fabc"), K + "pickle",
    "truncated: need 2147483647 bytes")
put(P, "pt", "pickle_binunicode8_huge.pt", torch_zip(b"\x80\x04\x8d" + struct.pack("<Q", 2**63 + 5) + b"."), K + "pickle",
    "string length 9223372036854775813 exceeds the pickle")
put(P, "pt", "pickle_bad_utf8.pt", torch_zip(b"\x80\x02X\x02\x00\x00\x00\xc3\x28."), K + "pickle", "invalid UTF-8 string at 7")
put(P, "pt", "pickle_long_global.pt", torch_zip(b"\x80\x02c" + b"a" * 600 + b"\nb\n."), K + "pickle", "GLOBAL name longer than 512 bytes")
put(P, "pt", "pickle_global_no_newline.pt", torch_zip(b"\x80\x02ctorch"), K + "pickle", "truncated GLOBAL at 3")
put(P, "pt", "pickle_long1_9_bytes.pt", torch_zip(b"\x80\x02\x8a\x09" + b"\x01" * 9 + b"."), K + "pickle",
    "integer of 9 bytes is too large at byte 2")
put(P, "pt", "pickle_memo_undefined.pt", torch_zip(b"\x80\x02h\x07."), K + "pickle", "memo key 7 not defined")
put(P, "pt", "pickle_memo_long_undefined.pt", torch_zip(b"\x80\x02j\xff\xff\xff\xff."), K + "pickle", "memo key 4294967295 not defined")
put(P, "pt", "pickle_deep_tuples.pt", torch_zip(b"\x80\x02N" + b"\x85" * 10000 + b"."), K + "pickle", "nesting deeper than 64")
put(P, "pt", "pickle_deep_lists.pt", torch_zip(b"\x80\x02" + b"]" * 200 + b"a" * 199 + b"."), K + "pickle", "nesting deeper than 64")
put(P, "pt", "pickle_deep_dicts.pt", torch_zip(b"\x80\x02" + b"}" + (b"N}" * 100) + b"s" * 100 + b"."), K + "pickle",
    "nesting deeper than 64")
# A container put into itself through the memo (docs/hardening.md finding 8): refused by the unpickler,
# so no reference cycle is ever built.
put(P, "pt", "cycle_list_in_itself.pt", torch_zip(b"\x80\x02]q\x00h\x00a."), K + "pickle", "APPEND(S) to a list already in use at byte 7")
put(P, "pt", "cycle_dict_in_itself.pt", torch_zip(b"\x80\x02}q\x00" + su("model") + b"h\x00s."), K + "pickle",
    "SETITEM(S) on a dict already in use at byte 17")
put(P, "pt", "pickle_setitems_odd.pt", torch_zip(b"\x80\x02}(NNNu."), K + "pickle", "SETITEMS with an odd number of items")
put(P, "pt", "pickle_append_to_dict.pt", torch_zip(b"\x80\x02}Na."), K + "pickle", "APPEND(S) to dict")
put(P, "pt", "pickle_reduce_non_tuple.pt", torch_zip(b"\x80\x02" + glob("collections", "OrderedDict") + b"NR."), K + "pickle",
    "REDUCE arguments are a None")
put(P, "pt", "pickle_reduce_string.pt", torch_zip(b"\x80\x02" + su("x") + b")R."), K + "pickle", "REDUCE of a str")
put(P, "pt", "pickle_ordereddict_args.pt", torch_zip(b"\x80\x02" + glob("collections", "OrderedDict") + tup(b"N") + b"R."),
    K + "pickle", "OrderedDict called with 1 arguments")
put(P, "pt", "pickle_call_storage_type.pt", torch_zip(b"\x80\x02" + glob("torch", "FloatStorage") + b")R."), K + "pickle",
    "call of storage type")
put(P, "pt", "pickle_build_on_list.pt", torch_zip(b"\x80\x02]Nb."), K + "pickle", "BUILD of list with None state")
put(P, "pt", "pickle_stack_global_ints.pt", torch_zip(b"\x80\x04K\x01K\x02\x93."), K + "pickle", "STACK_GLOBAL needs two strings")
put(P, "pt", "pickle_persid_not_tuple.pt", torch_zip(b"\x80\x02NQ."), K + "pickle",
    "persistent id is not ('storage', type, key, location, numel)")
put(P, "pt", "pickle_persid_bad_type.pt",
    torch_zip(b"\x80\x02" + tup(su("storage"), b"N", su("0"), su("cpu"), bint(1)) + b"Q."), K + "pickle",
    "persistent id storage type is a None")
put(P, "pt", "pickle_persid_negative.pt",
    torch_zip(b"\x80\x02" + tup(su("storage"), glob("torch", "FloatStorage"), su("0"), su("cpu"), bint(-1)) + b"Q."),
    K + "pickle", "negative storage size -1")
put(P, "pt", "unknown_storage_type.pt", torch_zip(state_dict(("w", tensor(dtype="ComplexFloatStorage")))),
    K + "forbiddenGlobal", "forbidden global 'torch.ComplexFloatStorage'")
put(P, "pt", "rebuild_wrong_arity.pt", torch_zip(state_dict(("w", tensor(nargs=4)))), K + "pickle",
    "_rebuild_tensor_v2 called with 4 arguments")
put(P, "pt", "rebuild_size_not_tuple.pt",
    torch_zip(state_dict(("w", glob("torch._utils", "_rebuild_tensor_v2") + tup(
        tup(su("storage"), glob("torch", "FloatStorage"), su("0"), su("cpu"), bint(4)) + b"Q",
        bint(0), bint(4), tup(bint(1)), b"\x89", b"N") + b"R"))),
    K + "pickle", "size is a int, expected tuple")
put(P, "pt", "rebuild_parameter_bad.pt",
    torch_zip(state_dict(("w", glob("torch._utils", "_rebuild_parameter") + tup(b"N", b"\x89", b"N") + b"R"))),
    K + "pickle", "unexpected _rebuild_parameter arguments")

# ---- tensors vs storages
put(P, "pt", "storage_missing.pt", torch_zip(storages={}), K + "tensor", "tensor 'w': storage '0' missing from the zip")
put(P, "pt", "storage_short.pt", torch_zip(storages={"0": F32x4[:12]}), K + "tensor", "storage '0' holds 12 bytes, needs 4 × 4")
put(P, "pt", "storage_numel_overflow.pt", torch_zip(state_dict(("w", tensor(numel=2**31 - 1)))), K + "tensor",
    "holds 16 bytes, needs 2147483647 × 4")
put(P, "pt", "shape_past_storage.pt", torch_zip(state_dict(("w", tensor(shape=(3, 2))))), K + "tensor",
    "reach element 5 of a 4-element storage")
put(P, "pt", "offset_past_storage.pt", torch_zip(state_dict(("w", tensor(offset=1)))), K + "tensor",
    "offset 1 reach element 4 of a 4-element storage")
put(P, "pt", "stride_past_storage.pt", torch_zip(state_dict(("w", tensor(stride=(3, 1))))), K + "tensor",
    "reach element 4 of a 4-element storage")
put(P, "pt", "negative_stride.pt", torch_zip(state_dict(("w", tensor(stride=(-2, 1))))), K + "tensor", "negative size or stride")
put(P, "pt", "negative_size.pt", torch_zip(state_dict(("w", tensor(shape=(-1, 2))))), K + "tensor", "negative size or stride")
put(P, "pt", "negative_offset.pt", torch_zip(state_dict(("w", tensor(offset=-1)))), K + "tensor", "negative storage offset")
put(P, "pt", "rank_mismatch.pt", torch_zip(state_dict(("w", tensor(stride=(1,))))), K + "tensor", "2 sizes but 1 strides")
big = 2**31 - 1
put(P, "pt", "element_count_overflow.pt",
    torch_zip(state_dict(("w", tensor(shape=(big, big, big), stride=(0, 0, 0))))), K + "tensor", "overflows")
put(P, "pt", "extent_overflow.pt",
    torch_zip(state_dict(("w", tensor(shape=(2, 2, 2, 2, 2), stride=(big, big, big, big, big))))) , K + "tensor",
    "reach element")
put(P, "pt", "storage_two_dtypes.pt",
    torch_zip(state_dict(("a", tensor()), ("b", tensor(dtype="HalfStorage", numel=4, shape=(4,), stride=(1,))))),
    K + "tensor", "tensor 'b': storage '0' is used with two different sizes or dtypes")

# --------------------------------------------------------------------------------------------
# safetensors (Checkpoint(path:) routes here when byte 8 is '{')

def st(header, data=b"", n=None):
    h = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(h) if n is None else n) + h + data


S = "checkpoint"
put(S, "safetensors", "control_good.safetensors",
    st('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}', F32x4), "ok", "")
put(S, "safetensors", "header_length_huge.safetensors", st("{}", n=2**63), K + "safetensors",
    "header length 9223372036854775808 exceeds the 100000000-byte limit")
put(S, "safetensors", "header_past_end.safetensors", st("{}", n=4096), K + "safetensors", "header length 4096 exceeds the file")
put(S, "safetensors", "header_not_json.safetensors", st("{not json}"), K + "safetensors", "header is not valid safetensors JSON")
put(S, "safetensors", "header_truncated_json.safetensors", st('{"w":{"dtype":"F32",'), K + "safetensors", "not valid safetensors JSON")
put(S, "safetensors", "header_array.safetensors", st("{}")[:8] + b"", K + "unknownFormat", "neither a torch zip nor a safetensors file")
put(S, "safetensors", "header_missing_dtype.safetensors", st('{"w":{"shape":[1],"data_offsets":[0,4]}}', b"\0" * 4),
    K + "safetensors", "missing 'dtype'")
put(S, "safetensors", "header_shape_string.safetensors", st('{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}', b"\0" * 4),
    K + "safetensors", "wrong type at w.shape")
put(S, "safetensors", "header_shape_float.safetensors", st('{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', b"\0" * 4),
    K + "safetensors", "not valid safetensors JSON")
put(S, "safetensors", "header_shape_huge_number.safetensors",
    st('{"w":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}', b"\0" * 4), K + "safetensors", "not valid safetensors JSON")
put(S, "safetensors", "metadata_not_strings.safetensors",
    st('{"__metadata__":{"a":1},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4),
    K + "safetensors", "wrong type at __metadata__")
put(S, "safetensors", "deep_json.safetensors", st('{"w":' + "[" * 10000 + "]" * 10000 + "}"), K + "safetensors",
    "not valid safetensors JSON")
put(S, "safetensors", "dtype_unknown.safetensors", st('{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', b"\0"),
    K + "tensor", "tensor 'w': unsupported dtype 'F8_E4M3'")
put(S, "safetensors", "offsets_three.safetensors", st('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', b"\0" * 8),
    K + "tensor", "data_offsets has 3 values, expected 2")
put(S, "safetensors", "offsets_reversed.safetensors", st('{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', b"\0" * 4),
    K + "tensor", "data_offsets [4, 0] outside the 4-byte data block")
put(S, "safetensors", "offsets_negative.safetensors", st('{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', b"\0" * 4),
    K + "tensor", "outside the 4-byte data block")
put(S, "safetensors", "offsets_past_end.safetensors",
    st('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,9223372036854775807]}}', b"\0" * 4), K + "tensor", "outside the 4-byte data block")
put(S, "safetensors", "shape_negative.safetensors", st('{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', b"\0" * 4),
    K + "tensor", "negative dimension in shape [-1]")
put(S, "safetensors", "shape_overflow.safetensors",
    st('{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}', b"\0" * 4), K + "tensor", "element count of [4294967296, 4294967296] overflows")
put(S, "safetensors", "bytes_overflow.safetensors",
    st('{"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,4]}}', b"\0" * 4), K + "tensor", "needs 2305843009213693952 × 8 bytes")
put(S, "safetensors", "shape_size_mismatch.safetensors", st('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', b"\0" * 4),
    K + "tensor", "shape [2] × F32 needs 2 × 4 bytes, data_offsets span 4")
put(S, "safetensors", "overlap.safetensors",
    st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}', b"\0" * 6),
    K + "safetensors", "tensor 'b' overlaps the previous tensor (offset 2 < 4)")
put(S, "safetensors", "gap.safetensors",
    st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', b"\0" * 12),
    K + "safetensors", "gap of 4 bytes before tensor 'b'")
put(S, "safetensors", "trailing_data.safetensors", st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 9),
    K + "safetensors", "data block is 9 bytes but tensors cover 4")
put(S, "safetensors", "truncated_data.safetensors", st('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', b"\0" * 9),
    K + "tensor", "data_offsets [0, 16] outside the 9-byte data block")

# --------------------------------------------------------------------------------------------
# .npy (NPY.read)

def npy(body, major=1, payload=b"", hl=None):
    h = body.encode() if isinstance(body, str) else body
    n = len(h) if hl is None else hl
    return b"\x93NUMPY" + bytes([major, 0]) + (struct.pack("<H", n) if major == 1 else struct.pack("<I", n)) + h + payload


def npyd(descr="'<f4'", fortran="False", shape="(2,)", extra=""):
    d = "{'descr': %s, 'fortran_order': %s, 'shape': %s, %s}" % (descr, fortran, shape, extra)
    return d + " " * ((64 - (10 + len(d) + 1) % 64) % 64) + "\n"


N, NK = "npy", "CheckpointError.npy"
put(N, "npy", "control_good.npy", npy(npyd(), payload=struct.pack("<2f", 1, 2)), "ok", "")
put(N, "npy", "empty.npy", b"", NK, "missing \\x93NUMPY magic")
put(N, "npy", "bad_magic.npy", b"\x93NUMPX\x01\x00\x00\x00", NK, "missing \\x93NUMPY magic")
put(N, "npy", "version_4.npy", npy(npyd(), major=4), NK, "unsupported format version 4.0")
put(N, "npy", "v2_truncated.npy", b"\x93NUMPY\x02\x00\x10\x00", NK, "truncated header")
put(N, "npy", "header_past_end.npy", npy(npyd(), hl=0xFFFF), NK, "header length 65535 exceeds the file")
put(N, "npy", "header_past_end_v2.npy", npy(npyd(), major=2, hl=0xFFFFFFFF), NK, "header length 4294967295 exceeds the file")
put(N, "npy", "header_not_utf8.npy", npy(b"{\xff\xfe}"), NK, "header is not text")
put(N, "npy", "header_not_dict.npy", npy("[1, 2, 3]" + " " * 54), NK, "header is not a dict: [1, 2, 3]")
put(N, "npy", "header_not_dict_newline.npy", npy("not a dict" + " " * 43 + "\n"), NK, "header is not a dict", "multiline")
put(N, "npy", "dtype_f8.npy", npy(npyd(descr="'<f8'"), payload=b"\0" * 16), NK, "dtype '<f8' is not '<f4'")
put(N, "npy", "dtype_big_endian.npy", npy(npyd(descr="'>f4'"), payload=b"\0" * 8), NK, "dtype '>f4' is not '<f4'")
put(N, "npy", "dtype_object.npy", npy(npyd(descr="'|O'"), payload=b"\0" * 16), NK, "dtype '|O' is not '<f4'")
put(N, "npy", "dtype_missing.npy", npy("{'shape': (2,), 'fortran_order': False}"), NK, "dtype ? is not '<f4'")
put(N, "npy", "fortran.npy", npy(npyd(fortran="True"), payload=b"\0" * 8), NK, "Fortran order is not supported")
put(N, "npy", "shape_missing.npy", npy("{'descr': '<f4', 'fortran_order': False}"), NK, "no shape in header")
put(N, "npy", "shape_list.npy", npy(npyd(shape="[2]"), payload=b"\0" * 8), NK, "no shape in header")
put(N, "npy", "shape_text.npy", npy(npyd(shape="(a,)"), payload=b"\0" * 8), NK, "bad shape (a,)")
put(N, "npy", "shape_negative.npy", npy(npyd(shape="(-2,)"), payload=b"\0" * 8), NK, "bad shape (-2,)")
put(N, "npy", "shape_unclosed.npy", npy(npyd(shape="((2,)"), payload=b"\0" * 8), NK, "no shape in header")
put(N, "npy", "shape_overflow.npy", npy(npyd(shape="(4294967296, 4294967296)")), NK, "shape (4294967296,4294967296) overflows")
put(N, "npy", "shape_bytes_overflow.npy", npy(npyd(shape="(4611686018427387904,)")), NK, "needs 4611686018427387904 × 4")
put(N, "npy", "shape_huge_int.npy", npy(npyd(shape="(99999999999999999999999,)")), NK, "bad shape (99999999999999999999999,)")
put(N, "npy", "payload_short.npy", npy(npyd(shape="(3,)"), payload=b"\0" * 8), NK, "payload is 8 bytes, shape [3] needs 3 × 4")
put(N, "npy", "payload_long.npy", npy(npyd(shape="(1,)"), payload=b"\0" * 8), NK, "payload is 8 bytes, shape [1] needs 1 × 4")

# --------------------------------------------------------------------------------------------
# PNG / JPEG (decodeImage)

def chunk(t, data, crc=None):
    c = zlib.crc32(t + data) if crc is None else crc
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", c & 0xFFFFFFFF)


SIG = b"\x89PNG\r\n\x1a\n"


def png(w=4, h=4, depth=8, color=2, idat=None, ihdr_crc=None, iend=True, extra=b""):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)
    if idat is None:
        ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color, 3)
        raw = b"".join(b"\0" + b"\x80" * (w * ch * depth // 8) for _ in range(h))
        idat = zlib.compress(raw)
    return SIG + chunk(b"IHDR", ihdr, ihdr_crc) + extra + chunk(b"IDAT", idat) + (chunk(b"IEND", b"") if iend else b"")


I, IK = "image", "ImageIOError."
put(I, "image", "control_good.png", png(), "ok", "")
put(I, "image", "empty.png", b"", IK + "unsupportedFormat", "not a PNG or JPEG file")
put(I, "image", "text.png", b"hello, not an image\n", IK + "unsupportedFormat", "not a PNG or JPEG file")
put(I, "image", "gif.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", IK + "unsupportedFormat", "not a PNG or JPEG file")
put(I, "image", "signature_only.png", SIG, IK + "corrupt", "PNG: ")
put(I, "image", "ihdr_bad_crc.png", png(ihdr_crc=0), IK + "corrupt", "PNG: IHDR: CRC error")
put(I, "image", "width_zero.png", png(w=0), IK + "corrupt", "PNG: ")
put(I, "image", "height_2_31.png", png(h=2**31, idat=zlib.compress(b"\0" * 64)), IK + "corrupt", "PNG: ")
put(I, "image", "side_too_large.png", png(w=100000, h=1, idat=zlib.compress(b"")), IK + "tooLarge",
    "image is 100000x1, larger than the 16384-pixel side limit")
put(I, "image", "area_huge.png", png(w=16384, h=16384, idat=zlib.compress(b"\0" * 64)), IK + "corrupt", "PNG: ")
put(I, "image", "bad_depth.png", png(depth=7), IK + "corrupt", "PNG: ")
put(I, "image", "bad_color_type.png", png(color=5), IK + "corrupt", "PNG: ")
put(I, "image", "palette_missing.png", png(color=3), IK + "corrupt", "PNG: ")
put(I, "image", "idat_not_zlib.png", png(idat=b"not zlib data at all"), IK + "corrupt", "PNG: ")
put(I, "image", "idat_short.png", png(idat=zlib.compress(b"\0\x80\x80")), IK + "corrupt", "PNG: ")
put(I, "image", "no_idat.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)) + chunk(b"IEND", b""),
    IK + "corrupt", "PNG: ")
g = png()
put(I, "image", "truncated_in_idat.png", g[: len(g) - 20], IK + "corrupt", "PNG: ")
put(I, "image", "chunk_length_huge.png", SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
    + struct.pack(">I", 0x7FFFFFFF) + b"IDAT" + b"\0" * 16, IK + "corrupt", "PNG: ")
put(I, "image", "iend_crc.png", png(iend=False) + chunk(b"IEND", b"", crc=1), IK + "corrupt", "PNG: ")

jpg = bytearray(open(os.path.join(REPO, "Tests/Fixtures/images/rgb.jpg"), "rb").read())
sof = bytes(jpg).find(b"\xff\xc0")
assert sof > 0


def jpeg_with(w=None, h=None, at=None, value=None):
    b = bytearray(jpg)
    if h is not None:
        struct.pack_into(">H", b, sof + 5, h)
    if w is not None:
        struct.pack_into(">H", b, sof + 7, w)
    if at is not None:
        b[at] = value
    return bytes(b)


put(I, "image", "control_good.jpg", bytes(jpg), "ok", "")
put(I, "image", "soi_only.jpg", b"\xff\xd8\xff", IK + "corrupt", "JPEG: ")
put(I, "image", "truncated_header.jpg", bytes(jpg[: sof + 4]), IK + "corrupt", "JPEG: ")
put(I, "image", "truncated_scan.jpg", bytes(jpg[: len(jpg) * 3 // 4]), IK + "corrupt", "JPEG: Premature end of JPEG file")
put(I, "image", "height_zero.jpg", jpeg_with(h=0), IK + "corrupt", "JPEG: ")
put(I, "image", "width_zero.jpg", jpeg_with(w=0), IK + "corrupt", "JPEG: ")
put(I, "image", "side_too_large.jpg", jpeg_with(w=65000, h=65000), IK + "tooLarge",
    "image is 65000x65000, larger than the 16384-pixel side limit")
put(I, "image", "components_zero.jpg", jpeg_with(at=sof + 9, value=0), IK + "corrupt", "JPEG: ")
put(I, "image", "precision_12.jpg", jpeg_with(at=sof + 4, value=12), IK + "corrupt", "JPEG: ")
# Damaged entropy-coded data in a complete file: libjpeg only warns and returns gray blocks; refused.
sos = bytes(jpg).find(b"\xff\xda")
scan = sos + 2 + struct.unpack_from(">H", jpg, sos + 2)[0]
b = bytearray(jpg); b[scan + 16: scan + 48] = bytes((37 * i + 11) % 251 for i in range(32))
put(I, "image", "scan_garbage.jpg", bytes(b), IK + "corrupt", "JPEG: Corrupt JPEG data")
dht = bytes(jpg).find(b"\xff\xc4")
b = bytearray(jpg); struct.pack_into(">H", b, dht + 2, 0xFFFF)
put(I, "image", "dht_length_huge.jpg", bytes(b), IK + "corrupt", "JPEG: ")
sos = bytes(jpg).find(b"\xff\xda")
put(I, "image", "no_image_data.jpg", bytes(jpg[:sos]) + b"\xff\xd9", IK + "corrupt", "JPEG: ")

# --------------------------------------------------------------------------------------------
# Device profiles (ProfileCatalog.load)

GOOD_PROFILE = open(os.path.join(REPO, "Profiles/x86-avx2.json")).read()


def profile(**changes):
    import json
    d = json.loads(GOOD_PROFILE)
    for k, v in changes.items():
        if v is ...:
            del d[k]
        else:
            d[k] = v
    return json.dumps(d, indent=2).encode()


R, RK = "profile", "ProfileError.invalid"
put(R, "profile", "control_good.json", profile(), "ok", "")
put(R, "profile", "empty.json", b"", RK, "not valid profile JSON")
put(R, "profile", "not_json.json", b"name = pi4\n", RK, "not valid profile JSON")
put(R, "profile", "truncated.json", GOOD_PROFILE.encode()[:80], RK, "not valid profile JSON")
put(R, "profile", "array.json", b"[1, 2, 3]", RK, "wrong type for ''")
put(R, "profile", "not_utf8.json", b'{"schema": 1, "name": "\xff\xfe"}', RK, "not valid profile JSON")
put(R, "profile", "deep_nesting.json", b"[" * 10000 + b"]" * 10000, RK, "not valid profile JSON")
put(R, "profile", "missing_threads.json", profile(threads=...), RK, "missing field 'threads'")
put(R, "profile", "threads_string.json", profile(threads="4"), RK, "wrong type for 'threads'")
put(R, "profile", "threads_float.json", profile(threads=4.5), RK, "not valid profile JSON")
put(R, "profile", "threads_huge.json", GOOD_PROFILE.replace('"threads": 4', '"threads": 1e400').encode(), RK, "not valid profile JSON")
put(R, "profile", "arena_overflow.json",
    GOOD_PROFILE.replace('"arena_budget_bytes": 2147483648', '"arena_budget_bytes": 99999999999999999999').encode(), RK,
    "not valid profile JSON")
put(R, "profile", "isa_not_list.json", profile(required_isa="avx2"), RK, "wrong type for 'required_isa'")
put(R, "profile", "schema_2.json", profile(schema=2), RK, "schema: 2 is not a supported version (1)")
put(R, "profile", "name_slash.json", profile(name="../../etc/passwd"), RK, "name: must be a non-empty file-name-like identifier")
put(R, "profile", "name_empty.json", profile(name=""), RK, "name: must be a non-empty")
put(R, "profile", "arch_unknown.json", profile(arch="riscv64"), RK, "arch: 'riscv64' is not one of aarch64, x86_64")
put(R, "profile", "isa_unknown.json", profile(required_isa=["avx1024"]), RK, "unknown variant 'avx1024'")
put(R, "profile", "preferred_empty.json", profile(preferred_isa=[]), RK, "preferred_isa: must name at least one variant")
put(R, "profile", "threads_zero.json", profile(threads=0), RK, "threads: 0 is outside 1...256")
put(R, "profile", "threads_negative.json", profile(threads=-3), RK, "threads: -3 is outside 1...256")
put(R, "profile", "arena_zero.json", profile(arena_budget_bytes=0), RK, "arena_budget_bytes: must be positive")
put(R, "profile", "input_size_odd.json", profile(input_size=1000), RK, "input_size: 1000 is not a multiple of 32 in 128...2048")
put(R, "profile", "input_size_huge.json", profile(input_size=2**62), RK, "is not a multiple of 32 in 128...2048")
put(R, "profile", "precision_fp16.json", profile(precision="fp16"), RK, "precision: 'fp16' is not int8 or fp32")
put(R, "profile", "float_ops_empty_pattern.json", profile(float_ops=["*.attn", ""]), RK, "float_ops: empty pattern")

# --------------------------------------------------------------------------------------------
# Quantization tables (QuantTable.read; reader table-micro also validates against the micro model's
# GEMMs and fingerprint) and calibration prompts (CalibrationPrompts.parse). Their fragments are the
# whole message after "<file>:" ("LINE: what" for a table line), i.e. the exact error.

GOOD_TABLE = open(os.path.join(REPO, "Tests/Goldens/micro/int8-table.txt")).read()
TL = GOOD_TABLE.split("\n")
T_ENTRY = next(i for i, l in enumerate(TL) if l.startswith("image_encoder."))  # index of the first entry
T_ASYM = next(i for i, l in enumerate(TL) if " s8-asym " in l)
T_LAST = max(i for i, l in enumerate(TL) if l.strip())
T_NAME = TL[T_ENTRY].split()[0]
T, TM, TK = "table", "table-micro", "QuantTableError"


def table(at=None, line=None, insert=None, drop=None, sub=None):
    """The micro table with line `at` replaced by `line` (or `sub` = (old, new) applied to it),
    `insert` placed before line `at`, or line `drop` removed."""
    ls = list(TL)
    if sub is not None:
        assert sub[0] in ls[at], sub
        ls[at] = ls[at].replace(*sub)
    elif insert is not None:
        ls.insert(at, insert)
    elif drop is not None:
        del ls[drop]
    elif at is not None:
        ls[at] = line
    return "\n".join(ls).encode()


def entry_sub(old, new, at=T_ENTRY):
    return table(at=at, sub=(old, new))


def tline(i):  # the 1-based line number of index i
    return str(i + 1)


def hdr(key):
    return next(i for i, l in enumerate(TL) if l.startswith(key + " "))


put(TM, "table", "control_good.txt", GOOD_TABLE.encode(), "ok", "")
put(TM, "table", "control_crlf.txt", GOOD_TABLE.replace("\n", "\r\n").encode(), "ok", "")
# Every line padded with the whitespace the reader trims (tab, space, NBSP, U+2003, U+3000: Unicode space
# separators) and blank lines of it: the byte-level parser must trim what Foundation's `.whitespaces` did.
put(TM, "table", "control_unicode_padding.txt",
    "\n".join(("\u00a0\t " + l + " \u2003\u3000") if l else "\u00a0 \u3000" for l in TL).encode(), "ok", "")
put(T, "table", "empty.txt", b"", TK, "missing header line 'format'")
put(T, "table", "not_utf8.txt", GOOD_TABLE.encode().replace(b"model micro", b"model \xff\xfe"), TK, "not UTF-8 text")
put(T, "table", "format_2.txt", table(at=hdr("format"), line="format 2"), TK,
    f"{tline(hdr('format'))}: format 2 not supported (this sam2r reads format 1)")
put(T, "table", "no_format_line.txt", table(drop=hdr("format")), TK,
    f"{T_ENTRY}: entry before the 'format' header line")
put(T, "table", "missing_fingerprint.txt", table(drop=hdr("fingerprint")), TK, "missing header line 'fingerprint'")
put(T, "table", "duplicate_header.txt", table(at=hdr("model") + 1, insert="model micro"), TK,
    f"{tline(hdr('model') + 1)}: duplicate header field 'model'")
put(T, "table", "header_two_values.txt", table(at=hdr("model"), line="model micro large"), TK,
    f"{tline(hdr('model'))}: header 'model' needs exactly one value")
put(T, "table", "header_after_entry.txt", table(at=T_LAST + 1, insert="images 5"), TK,
    f"{tline(T_LAST + 1)}: header field 'images' after the first entry")
put(T, "table", "images_negative.txt", table(at=hdr("images"), line="images -4"), TK,
    "'images' and 'prompts' must be integers >= 0")
put(T, "table", "calibrator_unknown.txt", table(at=hdr("calibrator"), line="calibrator kmeans"), TK,
    f"{tline(hdr('calibrator'))}: unknown calibrator 'kmeans' (minmax, percentile:P, entropy or mse)")
put(T, "table", "calibrator_percentile_0.txt", table(at=hdr("calibrator"), line="calibrator percentile:0"), TK,
    f"{tline(hdr('calibrator'))}: unknown calibrator 'percentile:0' (minmax, percentile:P, entropy or mse)")
put(T, "table", "entry_cal_unknown.txt", entry_sub("cal=mse", "cal=magic"), TK,
    f"{tline(T_ENTRY)}: unknown calibrator 'magic' (minmax, percentile:P, entropy or mse)")
put(T, "table", "duplicate_entry.txt", table(at=T_LAST + 1, insert=TL[T_ENTRY]), TK,
    f"{tline(T_LAST + 1)}: duplicate entry '{T_NAME}'")
put(T, "table", "unknown_scheme.txt", entry_sub(" s8-sym ", " u4-sym "), TK,
    f"{tline(T_ENTRY)}: unknown scheme 'u4-sym' (s8-sym or s8-asym)")
put(T, "table", "truncated_line.txt", table(at=T_ENTRY, line=TL[T_ENTRY][:TL[T_ENTRY].index(" in=")]), TK,
    f"{tline(T_ENTRY)}: entry '{T_NAME}' has 4 fields, expected 11")
put(T, "table", "truncated_file.txt", GOOD_TABLE.encode()[:len("\n".join(TL[:T_ENTRY])) + 1 + TL[T_ENTRY].index(" in=")], TK,
    f"{tline(T_ENTRY)}: entry '{T_NAME}' has 4 fields, expected 11")
put(T, "table", "long_line.txt", table(at=T_ENTRY, line=TL[T_ENTRY].replace(T_NAME, "x" * 100000)), TK,
    f"{tline(T_ENTRY)}: line of {len(TL[T_ENTRY]) - len(T_NAME) + 100000} bytes (at most 4096)")
put(T, "table", "not_key_value.txt", entry_sub(" n=", " n"), TK, f"{tline(T_ENTRY)}: field 'n602112' is not key=value")
put(T, "table", "duplicate_field.txt", entry_sub(" n=602112", " scale=1.0"), TK, f"{tline(T_ENTRY)}: duplicate field 'scale'")
put(T, "table", "unknown_field.txt", entry_sub(" min=", " bias="), TK, f"{tline(T_ENTRY)}: unknown field 'bias'")
put(T, "table", "scale_zero.txt", entry_sub("scale=0.020100271", "scale=0.0"), TK,
    f"{tline(T_ENTRY)}: scale 0.0 must be > 0 with a finite reciprocal")
put(T, "table", "scale_negative.txt", entry_sub("scale=0.020100271", "scale=-0.5"), TK,
    f"{tline(T_ENTRY)}: scale -0.5 must be > 0 with a finite reciprocal")
put(T, "table", "scale_subnormal.txt", entry_sub("scale=0.020100271", "scale=1e-40"), TK,
    f"{tline(T_ENTRY)}: scale 1e-40 must be > 0 with a finite reciprocal")
put(T, "table", "scale_nan.txt", entry_sub("scale=0.020100271", "scale=nan"), TK, f"{tline(T_ENTRY)}: scale=nan is not a finite number")
put(T, "table", "scale_inf.txt", entry_sub("scale=0.020100271", "scale=inf"), TK, f"{tline(T_ENTRY)}: scale=inf is not a finite number")
put(T, "table", "scale_1e39.txt", entry_sub("scale=0.020100271", "scale=1e39"), TK, f"{tline(T_ENTRY)}: scale=1e39 is not a finite number")
put(T, "table", "scale_text.txt", entry_sub("scale=0.020100271", "scale=small"), TK, f"{tline(T_ENTRY)}: scale=small is not a finite number")
put(T, "table", "zp_out_of_range.txt", entry_sub("zp=-116", "zp=-129", at=T_ASYM), TK, f"{tline(T_ASYM)}: zp -129 outside -128...127")
put(T, "table", "zp_2_64.txt", entry_sub("zp=-116", "zp=18446744073709551616", at=T_ASYM), TK,
    f"{tline(T_ASYM)}: zp=18446744073709551616 is not an integer")
put(T, "table", "zp_sym_nonzero.txt", entry_sub("zp=0", "zp=3"), TK, f"{tline(T_ENTRY)}: s8-sym needs zp=0, got 3")
put(T, "table", "in_zero.txt", entry_sub("in=147", "in=0"), TK, f"{tline(T_ENTRY)}: in=0 must be > 0")
put(T, "table", "clip_inverted.txt", entry_sub("clip=-2.5527344,2.5527344", "clip=2.5527344,-2.5527344"), TK,
    f"{tline(T_ENTRY)}: clip=2.5527344,-2.5527344 is not LOW,HIGH")
put(T, "table", "clipped_over_1.txt", entry_sub("clipped=3.222e-04", "clipped=1.5"), TK,
    f"{tline(T_ENTRY)}: clipped=1.5 is not a fraction in 0...1")
put(T, "table", "count_negative.txt", entry_sub("n=602112", "n=-1"), TK, f"{tline(T_ENTRY)}: n=-1 is not a count")
put(T, "table", "carriage_return.txt", table(at=hdr("model"), line="model mi\rcro"), TK,
    f"{tline(hdr('model'))}: control character U+D (fields are separated by spaces or tabs)")
put(T, "table", "nul_in_name.txt", entry_sub(T_NAME, T_NAME + "\0"), TK,
    f"{tline(T_ENTRY)}: control character U+0 (fields are separated by spaces or tabs)")
put(TM, "table", "wrong_fingerprint.txt", entry_sub("fnv1a64:403037fdadc5d74f", "fnv1a64:0123456789abcdef", at=hdr("fingerprint")), TK,
    "table for model 'micro' (fnv1a64:0123456789abcdef) does not match model 'micro' (fnv1a64:403037fdadc5d74f): "
    "same GEMM inputs, different tensor names/shapes elsewhere")
put(TM, "table", "not_a_gemm.txt", entry_sub(T_NAME, "image_encoder.trunk.patch_embed.conv"), TK,
    "table for model 'micro' does not match model 'micro': 1 mismatched tensor(s): "
    "image_encoder.trunk.patch_embed.conv (not a GEMM of the model)")
put(TM, "table", "wrong_in.txt", entry_sub("in=147", "in=148"), TK,
    f"table for model 'micro' does not match model 'micro': 1 mismatched tensor(s): {T_NAME} (in=148, model has 147)")

PJ, PK = "prompts", "QuantTableError"


def prompts(obj):
    import json
    return json.dumps(obj).encode()


GOOD_PROMPTS = {"chelsea.png": [{"points": [[100.5, 80, 1], [20, 30, 0]]}, {"box": [10, 20, 300, 200]},
                                {"refine": True, "points": [[100, 80]]}],
                "coffee.jpg": [{"box": [0, 0, 50, 50], "points": [[25, 25, 1]]}]}


def one(prompt):
    return prompts({"a.png": [prompt]})


put(PJ, "prompts", "control_good.json", prompts(GOOD_PROMPTS), "ok", "")
put(PJ, "prompts", "empty.json", b"", PK, "not valid JSON")
put(PJ, "prompts", "not_json.json", b"a.png: click 10 20\n", PK, "not valid JSON")
put(PJ, "prompts", "truncated.json", prompts(GOOD_PROMPTS)[:40], PK, "not valid JSON")
put(PJ, "prompts", "not_utf8.json", b'{"a\xff.png": [{"box": [0, 0, 1, 1]}]}', PK, "not valid JSON")
put(PJ, "prompts", "deep_nesting.json", b"[" * 10000 + b"]" * 10000, PK, "not valid JSON")
put(PJ, "prompts", "top_array.json", b"[]", PK, "top level must be an object {file name: [prompts]}")
put(PJ, "prompts", "empty_prompt_list.json", prompts({"a.png": []}), PK, "'a.png': expected a non-empty list of prompts")
put(PJ, "prompts", "prompt_list_object.json", prompts({"a.png": {"box": [0, 0, 1, 1]}}), PK,
    "'a.png': expected a non-empty list of prompts")
# Two bad files: the error names the first in sorted order, whatever the process's hash seed.
put(PJ, "prompts", "two_bad_files.json", b'{"b.png": [], "a.png": [], "c.png": 1}', PK,
    "'a.png': expected a non-empty list of prompts")
put(PJ, "prompts", "prompt_not_object.json", prompts({"a.png": [[1, 2]]}), PK, "'a.png'[0]: a prompt is an object")
put(PJ, "prompts", "unknown_key.json", one({"pts": [[1, 2, 1]]}), PK, "'a.png'[0]: unknown key 'pts'")
put(PJ, "prompts", "empty_prompt.json", one({}), PK, "'a.png'[0]: no points, box or refine")
put(PJ, "prompts", "points_not_list.json", one({"points": 5}), PK, "'a.png'[0].points: expected [[x, y, label], ...]")
put(PJ, "prompts", "point_strings.json", one({"points": [["1", "2", 1]]}), PK, "'a.png'[0].points[0]: expected [x, y, label]")
put(PJ, "prompts", "point_four_numbers.json", one({"points": [[1, 2, 1, 0]]}), PK, "'a.png'[0].points[0]: expected [x, y, label]")
put(PJ, "prompts", "label_2.json", one({"points": [[1, 2, 2]]}), PK, "'a.png'[0].points[0]: label must be 0 or 1, got 2")
put(PJ, "prompts", "label_half.json", one({"points": [[1, 2, 1.5]]}), PK, "'a.png'[0].points[0]: label must be 0 or 1, got 1.5")
put(PJ, "prompts", "label_2_32_plus_1.json", one({"points": [[1, 2, 2**32 + 1]]}), PK,
    "'a.png'[0].points[0]: label must be 0 or 1, got 4294967297")
put(PJ, "prompts", "label_negative.json", one({"points": [[1, 2, -1]]}), PK, "'a.png'[0].points[0]: label must be 0 or 1, got -1")
put(PJ, "prompts", "x_1e39.json", b'{"a.png": [{"points": [[1e39, 2, 1]]}]}', PK,
    "'a.png'[0].points[0]: 1e+39 is not a finite coordinate")
put(PJ, "prompts", "y_1e400.json", b'{"a.png": [{"points": [[1, 1e400, 1]]}]}', PK, "not valid JSON")
put(PJ, "prompts", "box_inverted.json", one({"box": [5, 0, 1, 5]}), PK,
    "'a.png'[0].box: [5.0, 0.0, 1.0, 5.0] is inverted (needs x0 <= x1, y0 <= y1)")
put(PJ, "prompts", "box_three_numbers.json", one({"box": [0, 0, 5]}), PK, "'a.png'[0].box: expected [x0, y0, x1, y1]")
put(PJ, "prompts", "box_huge.json", b'{"a.png": [{"box": [0, 0, 1e39, 1]}]}', PK, "'a.png'[0].box: 1e+39 is not a finite coordinate")
put(PJ, "prompts", "refine_first.json", one({"refine": True, "points": [[1, 2, 1]]}), PK,
    "'a.png'[0].refine: the first prompt has no previous mask")
put(PJ, "prompts", "refine_string.json", prompts({"a.png": [{"box": [0, 0, 1, 1]}, {"refine": "yes"}]}), PK,
    "'a.png'[1].refine: expected true or false")

# ---- input text with line breaks copied into messages (known defect, flagged)
put(P, "pt", "global_name_newline.pt",
    torch_zip(b"\x80\x04\x8c\x09os\nsystem\x8c\x01x\x93."), K + "forbiddenGlobal", "forbidden global 'os", "multiline")
put(S, "safetensors", "name_newline.safetensors", st('{"a\\nb":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}', b"\0"),
    K + "tensor", "unsupported dtype 'Q8'", "multiline")
put(R, "profile", "arch_newline.json", profile(arch="x86\nerror: forged"), RK, "is not one of aarch64, x86_64", "multiline")

# --------------------------------------------------------------------------------------------
# .sam2q int8 model files (docs/model-file.md), written here independently of the Swift writer:
# a small valid file (one fp32 tensor, one int8 GEMM packed in the scalar layout NR=8 KR=4), then
# edits. `q_reseal` recomputes every CRC after an edit, so the structural check must catch it.
Q = "model"
QK = "ModelFileError."
Q_MAGIC = b"SAM2Q\x00\r\n"


def q_name(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<H", len(b)) + b


def q_good_parts():
    """(tensor table bytes, data bytes, field positions relative to the table / data)."""
    data = bytearray()
    pos = {}

    def arr(raw):
        data.extend(b"\0" * (-len(data) % 64))
        off = len(data)
        data.extend(raw)
        return off, len(raw)

    t = bytearray(struct.pack("<I", 2) + q_name("scalar") + struct.pack("<II", 8, 4))
    off, ln = arr(struct.pack("<6f", 1, 2, 3, 4, 5, 6))
    pos["a.name"] = len(t) + 2
    t += q_name("a.weight") + struct.pack("<BB", 0, 2)
    pos["a.dims"] = len(t)
    t += struct.pack("<QQ", 2, 3)
    pos["a.offset"] = len(t)
    t += struct.pack("<QQ", off, ln)
    n, k, nr, kr = 3, 5, 8, 4
    q = [[(r * 37 + c * 11) % 255 - 127 for c in range(k)] for r in range(n)]
    packed = bytearray()
    for b in range((n + nr - 1) // nr):
        for g in range((k + kr - 1) // kr):
            for i in range(nr):
                for j in range(kr):
                    row, col = b * nr + i, g * kr + j
                    packed += struct.pack("<b", q[row][col] if row < n and col < k else 0)
    wsum = struct.pack(f"<{n}i", *[sum(r) for r in q])
    arrays = [arr(bytes(packed)), arr(wsum), arr(struct.pack(f"<{n}i", 10, -20, 30)),
              arr(struct.pack(f"<{n}f", 0.001, 0.002, 0.003)), arr(struct.pack(f"<{n}f", 0.05, 0.1, 0.15))]
    pos["g.packed"], pos["g.wsum"] = arrays[0][0], arrays[1][0]
    t += q_name("g.proj") + struct.pack("<BB", 1, 2)
    pos["g.dims"] = len(t)
    t += struct.pack("<QQ", n, k) + struct.pack("<IIfi", nr, kr, 0.02, -3)
    for o, l in arrays:
        t += struct.pack("<QQ", o, l)
    return bytes(t), bytes(data), pos


def q_arena(total=1024):
    return struct.pack("<QIIII", total, 128, 1, 16, 1) + q_name("x") + struct.pack("<QQII", 0, 512, 0, 1)


def q_file(sections):
    """Header + directory + 64-byte aligned sections [(kind, bytes)], every checksum right."""
    count = len(sections)
    off = 64 + 32 * count
    dirb, body, offsets = b"", b"", []
    for kind, b in sections:
        off += -off % 64
        offsets.append(off)
        dirb += struct.pack("<IIQQII", kind, 0, off, len(b), zlib.crc32(b), 0)
        off += len(b)
    out = bytearray(off)
    head = Q_MAGIC + struct.pack("<IIQQI", 1, count, 64, off, zlib.crc32(dirb))
    head += b"\0" * (60 - len(head))
    out[0:64] = head + struct.pack("<I", zlib.crc32(head))
    out[64:64 + len(dirb)] = dirb
    for (kind, b), o in zip(sections, offsets):
        out[o:o + len(b)] = b
    return out


def q_reseal(b):
    b = bytearray(b)
    count, dirofs = struct.unpack_from("<IQ", b, 12)
    if count <= 16 and dirofs + 32 * count <= len(b):
        for i in range(count):
            e = dirofs + 32 * i
            o, l = struct.unpack_from("<QQ", b, e + 8)
            if o + l <= len(b):
                struct.pack_into("<I", b, e + 24, zlib.crc32(bytes(b[o:o + l])))
        struct.pack_into("<I", b, 32, zlib.crc32(bytes(b[dirofs:dirofs + 32 * count])))
    struct.pack_into("<I", b, 60, zlib.crc32(bytes(b[0:60])))
    return bytes(b)


Q_TABLE, Q_DATA, Q_POS = q_good_parts()
Q_SECTIONS = [(1, b'{"name": "m", "image_size": 128}\n'), (2, b"format 1\n"), (3, Q_TABLE), (5, q_arena()), (4, Q_DATA)]
Q_GOOD = q_file(Q_SECTIONS)


def q_dir(b, kind):
    """File offset of the directory entry of section `kind`."""
    count = struct.unpack_from("<I", b, 12)[0]
    return next(64 + 32 * i for i in range(count) if struct.unpack_from("<I", b, 64 + 32 * i)[0] == kind)


def q_sec(b, kind):
    return struct.unpack_from("<Q", b, q_dir(b, kind) + 8)[0]


def q_edit(fn):
    b = bytearray(Q_GOOD)
    fn(b)
    return q_reseal(b)


put(Q, "sam2q", "control_good.sam2q", bytes(Q_GOOD), "ok", "")
put(Q, "sam2q", "empty.sam2q", b"", QK + "truncated", "shorter than the 64-byte header")
put(Q, "sam2q", "truncated_header.sam2q", bytes(Q_GOOD[:40]), QK + "truncated", "shorter than the 64-byte header")
put(Q, "sam2q", "truncated_half.sam2q", bytes(Q_GOOD[:len(Q_GOOD) // 2]), QK + "truncated", "header says")
put(Q, "sam2q", "trailing_data.sam2q", q_reseal(bytes(Q_GOOD) + b"\0" * 64), QK + "truncated", "(trailing data)")
put(Q, "sam2q", "bad_magic.sam2q", b"SAM2X" + bytes(Q_GOOD[5:]), QK + "magic", "not a sam2r model file (bad magic)")
put(Q, "sam2q", "text.sam2q", b"this is not a model file at all, just some text long enough to pass the size check\n",
    QK + "magic", "bad magic")
put(Q, "sam2q", "version_2.sam2q", q_edit(lambda b: struct.pack_into("<I", b, 8, 2)), QK + "version",
    "format version 2 not supported")
put(Q, "sam2q", "header_crc.sam2q", bytes(Q_GOOD[:44]) + b"\x01" + bytes(Q_GOOD[45:]), QK + "checksum",
    "header checksum mismatch")
put(Q, "sam2q", "directory_crc.sam2q", bytes(Q_GOOD[:88]) + bytes([Q_GOOD[88] ^ 1]) + bytes(Q_GOOD[89:]),
    QK + "checksum", "section directory checksum mismatch")
put(Q, "sam2q", "section_count_zero.sam2q", q_edit(lambda b: struct.pack_into("<I", b, 12, 0)), QK + "header",
    "section count 0 outside 1...16")
put(Q, "sam2q", "directory_past_end.sam2q", q_edit(lambda b: struct.pack_into("<Q", b, 16, len(b))), QK + "directory",
    "outside the file")
put(Q, "sam2q", "section_past_end.sam2q", q_edit(lambda b: struct.pack_into("<Q", b, q_dir(b, 4) + 16, len(b))),
    QK + "section", "outside the file")
put(Q, "sam2q", "section_length_huge.sam2q", q_edit(lambda b: struct.pack_into("<Q", b, q_dir(b, 4) + 16, 2**64 - 1)),
    QK + "directory", "exceeds")
put(Q, "sam2q", "section_misaligned.sam2q", q_edit(lambda b: struct.pack_into("<Q", b, q_dir(b, 3) + 8, q_sec(b, 3) + 4)),
    QK + "section", "is not 64-byte aligned")
put(Q, "sam2q", "sections_overlap.sam2q", q_edit(lambda b: struct.pack_into("<Q", b, q_dir(b, 2) + 8, q_sec(b, 1))),
    QK + "section", "overlap")
put(Q, "sam2q", "section_twice.sam2q", q_edit(lambda b: struct.pack_into("<I", b, q_dir(b, 2), 1)), QK + "directory",
    "section 'config' appears twice")
put(Q, "sam2q", "section_kind_unknown.sam2q", q_edit(lambda b: struct.pack_into("<I", b, q_dir(b, 2), 77)),
    QK + "directory", "unknown kind 77")
put(Q, "sam2q", "no_arena_section.sam2q", bytes(q_file([s for s in Q_SECTIONS if s[0] != 5])), QK + "section",
    "no 'arena' section")
put(Q, "sam2q", "data_crc.sam2q",
    (lambda b: (b.__setitem__(q_sec(b, 4) + 1, b[q_sec(b, 4) + 1] ^ 0x10), bytes(b))[1])(bytearray(Q_GOOD)),
    QK + "checksum", "section 'data' checksum mismatch")
put(Q, "sam2q", "tensors_crc.sam2q",
    (lambda b: (b.__setitem__(q_sec(b, 3) + 9, b[q_sec(b, 3) + 9] ^ 0x01), bytes(b))[1])(bytearray(Q_GOOD)),
    QK + "checksum", "section 'tensors' checksum mismatch")
put(Q, "sam2q", "tensor_offset_past_end.sam2q",
    q_edit(lambda b: struct.pack_into("<Q", b, q_sec(b, 3) + Q_POS["a.offset"], len(Q_DATA))),
    QK + "tensor", "past the end of the data section")
put(Q, "sam2q", "tensor_offset_huge.sam2q",
    q_edit(lambda b: struct.pack_into("<Q", b, q_sec(b, 3) + Q_POS["a.offset"], 2**63 + 5)),
    QK + "tensorTable", "exceeds")
put(Q, "sam2q", "tensor_misaligned.sam2q",
    q_edit(lambda b: struct.pack_into("<Q", b, q_sec(b, 3) + Q_POS["a.offset"], 4)),
    QK + "tensor", "offset 4 not 64-byte aligned")
put(Q, "sam2q", "tensor_shape_vs_bytes.sam2q",
    q_edit(lambda b: struct.pack_into("<Q", b, q_sec(b, 3) + Q_POS["a.dims"], 3)),
    QK + "tensor", "data has 24 bytes, shape needs 36")
put(Q, "sam2q", "gemm_nk_mismatch.sam2q",
    q_edit(lambda b: struct.pack_into("<Q", b, q_sec(b, 3) + Q_POS["g.dims"] + 8, 9)),
    QK + "tensor", "packed has 64 bytes, shape needs 96")
put(Q, "sam2q", "gemm_minus_128.sam2q",
    q_edit(lambda b: b.__setitem__(q_sec(b, 4) + Q_POS["g.packed"], 0x80)),
    QK + "tensor", "-128 or non-zero padding")
put(Q, "sam2q", "gemm_padding.sam2q",
    q_edit(lambda b: b.__setitem__(q_sec(b, 4) + Q_POS["g.packed"] + 31, 1)),
    QK + "tensor", "-128 or non-zero padding")
put(Q, "sam2q", "gemm_wsum.sam2q",
    q_edit(lambda b: struct.pack_into("<i", b, q_sec(b, 4) + Q_POS["g.wsum"], 12345)),
    QK + "tensor", "wsum[0] = 12345")
put(Q, "sam2q", "tensor_name_not_utf8.sam2q",
    q_edit(lambda b: b.__setitem__(q_sec(b, 3) + Q_POS["a.name"], 0xFF)),
    QK + "tensorTable", "is not UTF-8")
put(Q, "sam2q", "tensor_count_huge.sam2q",
    q_edit(lambda b: struct.pack_into("<I", b, q_sec(b, 3), 1000)),
    QK + "tensorTable", "runs past the end")
put(Q, "sam2q", "arena_buffer_past_total.sam2q",
    q_edit(lambda b: struct.pack_into("<Q", b, q_sec(b, 5), 100)),
    QK + "arena", "exceeds the arena (100 bytes)")

# --------------------------------------------------------------------------------------------
# Found while hardening (docs/hardening.md, findings 1-6): each crashed or hung a reader. They are
# fixed now and run like the rest; the files stay in pending/ because
# Tests/SAM2RCheckpointTests/MalformedRegressionTests.swift reads them there by path.
# pending/pending.tsv lists the reproducers still open (none at the moment).
open_rows = []


def found(name, data, reader, kind, fragment):
    put(reader, "pending", name, data, kind, fragment)


# 1. A ZIP64 extra field gives a compressed entry an uncompressed size >= 2^63 (Int(usize) trapped).
def zip64_huge_usize():
    name = b"archive/data.pkl"
    data = b"\x03\x00"  # an empty deflate stream
    lh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0, 0, len(data), 0, len(name), 0) + name + data
    extra = struct.pack("<HHQ", 1, 8, 0xFFFFFFFFFFFFFFFF)
    cdr = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0, 0, len(data), 0xFFFFFFFF,
                      len(name), len(extra), 0, 0, 0, 0, 0) + name + extra
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(cdr), len(lh), 0)
    return lh + cdr + end


found("zip64_uncompressed_size_2_64.pt", zip64_huge_usize(), P, K + "zip", "size or offset exceeds the file length")
# 2. A storage used a second time with a numel whose byte size overflows (unchecked multiply trapped).
found("storage_reused_numel_overflow.pt",
      torch_zip(state_dict(("a", tensor()), ("b", tensor(dtype="LongStorage", numel=2**62, shape=(1,), stride=(1,))))),
      P, K + "tensor", "storage '0' is used with two different sizes or dtypes")
# 3. A zero-sized dimension hid huge others from the size check; the stride product overflowed.
found("zero_dim_stride_overflow.safetensors",
      st('{"w":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}'),
      S, K + "tensor", "strides of [0, 4294967296, 4294967296] overflow")
# 4. A size-1 dimension with a huge stride passed the extent check; reading overflowed the odometer.
found("size1_huge_stride_read.pt", torch_zip(state_dict(("w", tensor(offset=1, shape=(1, 2), stride=(2**63 - 1, 2))))),
      P, K + "tensor", "extent of [1, 2] with strides [9223372036854775807, 2] overflows")
# 5. Two stride-0 tensors of 2^62 elements: parameterCount overflowed, floats() would allocate 2^64 bytes.
found("stride0_count_2_62.pt",
      torch_zip(state_dict(("a", tensor(shape=(2**31, 2**31), stride=(0, 0))),
                           ("b", tensor(shape=(2**31, 2**31), stride=(0, 0))))),
      P, K + "tensor", "over the element count limit")
# 6. float_ops globs that backtracked exponentially in keepsInFloat (the second one found by FuzzProfile).
#    Valid profiles: reader profile-glob loads them and matches op names, which must return at once.
found("float_ops_glob_blowup.json", profile(float_ops=["*" * 24 + "#"]), "profile-glob", "ok", "")
found("fuzz_profile_glob_timeout.json",
      open(os.path.join(ROOT, "pending", "fuzz_profile_glob_timeout.json"), "rb").read()
      if os.path.exists(os.path.join(ROOT, "pending", "fuzz_profile_glob_timeout.json")) else b"",
      "profile-glob", "ok", "")
put("profile-glob", "profile", "float_ops_512_stars.json", profile(float_ops=["*" * 511 + "#"] * 64), "ok", "")
put(R, "profile", "float_ops_pattern_too_long.json", profile(float_ops=["*" * 513]), RK, "float_ops: pattern of 513 bytes (at most 512)")
put(R, "profile", "float_ops_too_many.json", profile(float_ops=["a"] * 4097), RK, "float_ops: 4097 patterns (at most 4096)")
# 9. One storage read as FloatStorage x4 and HalfStorage x8 (same 16 bytes) was accepted.
put(P, "pt", "storage_same_bytes_two_dtypes.pt",
    torch_zip(state_dict(("a", tensor()), ("b", tensor(dtype="HalfStorage", numel=8, shape=(8,), stride=(1,))))),
    K + "tensor", "tensor 'b': storage '0' is used with two different sizes or dtypes")

# Found by FuzzPrompts (finding 12): an inverted box was accepted.
found("fuzz_prompts_box_inverted.json", b'{"x.jpeg": [{"box": [0, 4, 1, 1]}]}', PJ, PK,
      "'x.jpeg'[0].box: [0.0, 4.0, 1.0, 1.0] is inverted (needs x0 <= x1, y0 <= y1)")

with open(os.path.join(ROOT, "pending", "pending.tsv"), "w") as f:
    f.write("# reader\tfile\tkind once fixed\tmessage fragment once fixed\tdefect   (see docs/hardening.md)\n")
    f.write("".join(r + "\n" for r in open_rows))

with open(os.path.join(ROOT, "manifest.tsv"), "w") as f:
    f.write("# reader\tfile\tkind\tmessage fragment\t[flags]   (generated by make_malformed.py; see README.md)\n")
    f.write("\n".join(rows) + "\n")
print(f"{len(rows)} files")
