#!/usr/bin/env python3
"""Writes the seed corpus of the file fuzz targets (fuzz/corpus/{bills,sheet,tracking,issued,
calendar,registry}/): well-formed files as Excel, WPS and the platforms write them (`ok-*`), the
bomb shapes over a budget of `exchange::fuzzing::fuzz_budgets` (`over-<limit>-*`) and damaged
ones (`bad-*`). Deterministic; run from the repository root: python3 fuzz/seeds.py.
`cargo test` replays the corpus and checks each file's outcome against its name."""

import gzip
import io
import os
import zipfile

ROOT = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(ROOT, "..", "tests", "api", "fixtures")
STAMP = (2026, 12, 1, 0, 0, 0)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def zip_of(members, compress=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = compress
            z.writestr(info, data)
    return buf.getvalue()


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def col(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def sheet_xml(rows, dimension=None, shared=None, pad=b"", positions=True, prefix=""):
    """rows: list of (row index, [(column index, value)]); strings inline unless `shared` (a
    list the strings are appended to) is given; `pad` goes before sheetData (a comment)."""
    p = prefix + ":" if prefix else ""
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet xmlns{":" + prefix if prefix else ""}="{MAIN}">']
    if dimension:
        out.append(f'<{p}dimension ref="{dimension}"/>')
    out.append(f"<{p}sheetData>")
    for r, cells in rows:
        out.append(f'<{p}row r="{r + 1}">' if positions else f"<{p}row>")
        for c, v in cells:
            ref = f' r="{col(c)}{r + 1}"' if positions else ""
            if isinstance(v, (int, float)):
                out.append(f"<{p}c{ref}><{p}v>{v}</{p}v></{p}c>")
            elif isinstance(v, tuple) and v[0] == "d":
                out.append(f'<{p}c{ref} t="d"><{p}v>{esc(v[1])}</{p}v></{p}c>')
            elif shared is not None:
                shared.append(v)
                out.append(f'<{p}c{ref} t="s"><{p}v>{len(shared) - 1}</{p}v></{p}c>')
            else:
                out.append(f'<{p}c{ref} t="inlineStr"><{p}is><{p}t>{esc(v)}</{p}t></{p}is></{p}c>')
        out.append(f"</{p}row>")
    out.append(f"</{p}sheetData></{p}worksheet>")
    text = "".join(out).encode()
    if pad:
        head, tail = text.split(b"?>", 1)
        text = head + b"?><!--" + pad + b"-->" + tail
    return text


def xlsx(sheet, shared=None, sheet_name="Sheet1", app=None):
    members = [
        ("[Content_Types].xml", f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        ("_rels/.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        ("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="{esc(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        ("xl/_rels/workbook.xml.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
        ("xl/worksheets/sheet1.xml", sheet),
    ]
    if shared is not None:
        items = "".join(f"<si><t>{esc(s)}</t></si>" for s in shared)
        members.append(("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(shared)}" uniqueCount="{len(shared)}">{items}</sst>'))
    if app:
        members.append(("docProps/app.xml", f'<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>{app}</Application></Properties>'))
    return zip_of(members)


def grid(table):
    return [(r, list(enumerate(cells))) for r, cells in enumerate(table)]


def csv_of(table, encoding="utf-8", bom=False):
    text = "\r\n".join(",".join(r) for r in table) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


# What each sheet-taking target reads: a small well-formed table.
TABLES = {
    "sheet": [["日期", "类型", "名称"], ["2026-10-01", "放假", "国庆节"], ["2026-10-11", "上班", ""]],
    "calendar": [["日期", "类型", "名称"], ["2026-10-01", "放假", "国庆节"], ["2026-10-11", "上班", "调休"]],
    "registry": [
        ["serial", "holder_name", "holder_id_type", "holder_id_number", "cert_type", "valid_from", "valid_to", "status"],
        ["0150512140479054C03", "张三", "resident_id", "11010519491231002X", "natural_person", "2024-03-01", "2027-03-01", "valid"],
        ["0150512140479054C05", "王五", "hk_macau_permit", "H12345678", "natural_person", "2024-03-01", "2027-03-01", "valid"],
    ],
    "tracking": [["订单号", "运单号", "快递公司"], ["SZCA-F-20261201-0001", "SF1234567890123", "顺丰"], ["SZCA-F-20261201-0002", "SF1234567890124", "顺丰"]],
    "issued": [["发票流水号", "失败原因"], ["SZCA20261201001", "购买方纳税人识别号有误"]],
}


def bombs(target):
    """The hostile shapes over the fuzz budgets (rows 10,000, columns 256, cells 100,000, 32 KiB
    a cell, 100 members, 8 MiB a member, 16 MiB in all)."""
    two = [(0, [(0, "a")]), (1048575, [(16383, "b")])]
    yield "over-rows-sparse-huge-dimension.xlsx", xlsx(sheet_xml(two, dimension="A1:XFD1048576"))
    yield "over-rows-dimension-lies-small.xlsx", xlsx(sheet_xml(two, dimension="A1"))
    yield "over-columns-one-wide-row.xlsx", xlsx(sheet_xml([(0, [(0, "a"), (16383, "b")])]))
    many = [(r, [(0, "x"), (200, "y")]) for r in range(600)]
    yield "over-cells-wide-rows.xlsx", xlsx(sheet_xml(many, dimension="A1:GS600"))
    yield "over-cellbytes-huge-shared-string.xlsx", huge_cell()
    yield "over-memberbytes-zip-bomb-sheet.xlsx", xlsx(sheet_xml([(0, [(0, "a")])], pad=b" " * (9 * 1024 * 1024)))
    yield "over-members-many.zip", zip_of([(f"m{i:03}.txt", b"x") for i in range(101)])
    yield "over-unpacked-three-big-members.zip", zip_of([(f"b{i}.csv", b"\n" * (7 * 1024 * 1024)) for i in range(3)])
    yield "over-cellbytes-huge-csv-field.csv", b"a,b\r\n" + b"x" * 40000 + b",y\r\n"
    yield "over-columns-wide-csv.csv", (",".join(["h"] * 300) + "\r\n").encode()
    good = xlsx(sheet_xml([(0, [(0, "a")]), (1, [(0, "b")])]))
    yield "bad-truncated.xlsx", good[: len(good) // 2]
    # The bare sheet reader takes any text as CSV: there these only must not panic.
    odd = "any-" if target == "sheet" else "bad-"
    yield odd + "utf16.csv", "日期,类型\r\n2026-10-01,放假\r\n".encode("utf-16")
    yield odd + "random.bin", bytes((i * 73 + 11) % 256 for i in range(512))


def huge_cell():
    shared = []
    s = sheet_xml([(0, [(0, "日期")]), (1, [(0, "x" * 40000)])], shared=shared)
    return xlsx(s, shared=shared)


def write(target, name, data):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def sheets():
    for target, table in TABLES.items():
        shared = []
        write(target, "ok-shared-strings.xlsx", xlsx(sheet_xml(grid(table), dimension=f"A1:{col(len(table[0]) - 1)}{len(table)}", shared=shared), shared=shared, app="Microsoft Excel"))
        write(target, "ok-inline-strings.xlsx", xlsx(sheet_xml(grid(table), dimension="A1")))
        # WPS: shared strings, no dimension, cells without positions, a prefixed namespace.
        shared = []
        write(target, "ok-wps-no-positions.xlsx", xlsx(sheet_xml(grid(table), shared=shared, positions=False, prefix="x"), shared=shared, app="WPS 表格"))
        write(target, "ok-bom.csv", csv_of(table, bom=True))
        write(target, "ok-gbk.csv", csv_of(table, encoding="gbk"))
        for name, data in bombs(target):
            write(target, name, data)
    # A calendar date cell (t="d") with a multi-byte character across byte 10.
    rows = [(0, [(0, "日期"), (1, "类型")]), (1, [(0, ("d", "2026-10-0中")), (1, "放假")])]
    write("calendar", "bad-multibyte-at-byte-10.xlsx", xlsx(sheet_xml(rows)))
    write("sheet", "any-multibyte-at-byte-10.xlsx", xlsx(sheet_xml(rows)))
    write("calendar", "bad-multibyte-at-byte-10.csv", "日期,类型\r\n2026-10-0中,放假\r\n".encode())
    # Issued invoices: a zip of the failure list and an invoice PDF named by its number.
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    write("issued", "ok-zip-with-pdf.zip", zip_of([("dzfp_26442000000123456789_深圳CA_20261201.pdf", pdf), ("失败清单.csv", csv_of(TABLES["issued"], encoding="gbk"))]))
    write("issued", "bad-pdf-alone.pdf", pdf)


def bills():
    wechat = open(os.path.join(FIXTURES, "wechat-tradebill-sample.csv"), "rb").read()
    alipay = open(os.path.join(FIXTURES, "alipay-business-detail-sample.csv"), "rb").read()
    write("bills", "ok-wechat.csv", wechat)
    write("bills", "ok-alipay-gbk.csv", alipay)
    write("bills", "ok-month.zip", zip_of([("20261201.csv", wechat), ("alipay.csv", alipay)]))
    write("bills", "ok-wechat.csv.gz", gzip.compress(wechat, mtime=0))
    write("bills", "over-memberbytes-gzip-bomb.gz", gzip.compress(b"\n" * (9 * 1024 * 1024), mtime=0))
    write("bills", "over-members-many.zip", zip_of([(f"{i:03}.csv", wechat[:64]) for i in range(101)]))
    write("bills", "over-unpacked-three-big.zip", zip_of([(f"b{i}.csv", b"\n" * (7 * 1024 * 1024)) for i in range(3)]))
    write("bills", "over-linebytes-one-long-line.csv.gz", gzip.compress(b"\xe4\xba\xa4\xe6\x98\x93\xe6\x97\xb6\xe9\x97\xb4," + b"x" * 70000 + b"\n", mtime=0))
    write("bills", "bad-truncated.zip", zip_of([("a.csv", wechat)])[:200])
    write("bills", "bad-truncated.gz", gzip.compress(wechat, mtime=0)[:100])
    write("bills", "bad-utf16.csv", wechat.decode("utf-8").encode("utf-16"))
    write("bills", "bad-nested-too-deep.gz", gzip.compress(gzip.compress(gzip.compress(gzip.compress(wechat, mtime=0), mtime=0), mtime=0), mtime=0))


if __name__ == "__main__":
    sheets()
    bills()
