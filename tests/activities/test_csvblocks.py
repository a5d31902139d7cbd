"""``CsvBlocks`` reads what one Arrow reader of ``first_block`` blocks reads: the same
schema (types inferred from the same first block's rows), rows and values, and refuses
what it refuses."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from medpipe.activities.csvblocks import PARSE_BLOCK, CsvBlocks

FIRST = 64 << 10


def _rows(n: int, newline: str = "\n") -> list[str]:
    """CSV rows: ints, quoted text with commas, empty and ``NA`` cells, dates, floats."""
    out = []
    for i in range(n):
        text = "" if i % 7 == 0 else ("NA" if i % 11 == 0 else f'"note {i}, ward {i % 9}"')
        late = "" if i < 2000 else f"v{i}"  # empty (null) in the first block, text later
        out.append(f"{i},{text},2021-0{1 + i % 9}-1{i % 10},{i * 0.5},{late}{newline}")
    return out


def _csv(rows: list[str], newline: str = "\n") -> bytes:
    return (f"id,note,day,x,late{newline}" + "".join(rows)).encode()


def _chunks(data: bytes, size: int = 7777) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def _plain(data: bytes, block: int, **convert: object) -> pacsv.CSVStreamingReader:
    return pacsv.open_csv(io.BytesIO(data), read_options=pacsv.ReadOptions(block_size=block),
                          convert_options=pacsv.ConvertOptions(**convert))


def _first_block_rows(data: bytes, block: int) -> int:
    """Data rows in the first block of a reader of ``block`` bytes (the header excluded)."""
    cut = data.rfind(b"\n", 0, block) + 1
    return data[:cut].count(b"\n") - 1


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_same_schema_and_the_same_refusal_as_one_reader(newline: str) -> None:
    """``late`` is empty in the first block (null) and text later: both refuse it."""
    data = _csv(_rows(60_000, newline), newline)  # ~2.4 MB: blocks of PARSE_BLOCK after
    assert len(data) > FIRST + 2 * PARSE_BLOCK
    blocks = CsvBlocks(_chunks(data), FIRST)
    expected = _plain(data, FIRST)
    assert blocks.schema == expected.schema
    assert blocks.schema.field("late").type == pa.null()
    with pytest.raises(pa.ArrowInvalid, match="CSV conversion error to null"):
        expected.read_all()
    with pytest.raises(pa.ArrowInvalid, match="CSV conversion error to null"):
        list(blocks)


def test_same_rows_and_values_when_every_type_fits() -> None:
    rows = [r.rsplit(",", 1)[0] + ",\n" for r in _rows(60_000)]  # ``late`` empty throughout
    data = _csv(rows)
    got = pa.Table.from_batches(list(CsvBlocks(_chunks(data), FIRST)))
    assert got.equals(_plain(data, FIRST).read_all())
    assert len(got.to_batches()) > 2  # the rest came in several blocks


@pytest.mark.parametrize("offset, refused", [(0, False), (1, True)])
def test_a_float_after_the_first_block_is_refused_as_by_one_reader(offset: int,
                                                                     refused: bool) -> None:
    """An ``int`` column whose first float is the first block's last row is read as
    doubles; one row later, both readers refuse it."""
    rows = [f"{i},{i:07d}\n" for i in range(40_000)]  # one width: the cut stays put
    data = f"id,n\n{''.join(rows)}".encode()
    last = _first_block_rows(data, FIRST) - 1  # 0-based: the first block's last data row
    rows[last + offset] = f"{last + offset},{last + offset:05d}.5\n"
    data = f"id,n\n{''.join(rows)}".encode()
    if refused:
        with pytest.raises(pa.ArrowInvalid):
            _plain(data, FIRST).read_all()
        with pytest.raises(pa.ArrowInvalid, match="CSV conversion error to int64"):
            list(CsvBlocks(_chunks(data), FIRST))
        return
    got = pa.Table.from_batches(list(CsvBlocks(_chunks(data), FIRST)))
    assert got.schema.field("n").type == pa.float64()
    assert got.equals(_plain(data, FIRST).read_all())


def test_text_columns_nulls_and_included_columns_as_asked() -> None:
    data = _csv(_rows(60_000))
    convert = dict(column_types={"id": pa.string()}, strings_can_be_null=True,
                   include_columns=["id", "note", "x"])
    got = pa.Table.from_batches(list(CsvBlocks(_chunks(data), FIRST, **convert)))
    assert got.schema.names == ["id", "note", "x"]
    assert got.schema.field("id").type == pa.string()
    assert got.equals(_plain(data, FIRST, **convert).read_all())
    assert got.column("note").null_count > 0  # empty and NA cells, as the one reader reads


def test_a_file_within_the_first_block_is_one_block() -> None:
    data = _csv(_rows(100))
    batches = list(CsvBlocks(_chunks(data, 50), FIRST))
    assert len(batches) == 1
    assert pa.Table.from_batches(batches).equals(_plain(data, FIRST).read_all())


def test_quoted_header_and_an_empty_file() -> None:
    rows = [r.rsplit(",", 1)[0] + ",\n" for r in _rows(60_000)]
    data = ('"id","note, free","day",x,late\n' + "".join(rows)).encode()
    got = CsvBlocks(_chunks(data), FIRST)
    assert got.schema.names == ["id", "note, free", "day", "x", "late"]
    assert pa.Table.from_batches(list(got)).equals(_plain(data, FIRST).read_all())
    with pytest.raises(pa.ArrowInvalid, match="Empty CSV file"):
        CsvBlocks([b""], FIRST)
