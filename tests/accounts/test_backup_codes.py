"""accounts.backup_codes: the codes' shape, their normal form and the salted hash."""

from __future__ import annotations

import re

from accounts import backup_codes


def test_ten_distinct_codes_in_three_groups_of_four() -> None:
    codes = backup_codes.generate()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", code) for code in codes)


def test_no_look_alike_characters() -> None:
    joined = "".join(backup_codes.generate(200)).replace("-", "")
    assert not set(joined) & set("01ilo")


def test_typing_variants_normalise_to_the_same_code() -> None:
    assert backup_codes.normalise(" ABCD-efgh jkmn ") == "abcdefghjkmn"
    assert backup_codes.looks_like_code("ABCD efgh-JKMN")
    assert not backup_codes.looks_like_code("abcd-efgh-jkm0")  # 0 is not in the alphabet
    assert not backup_codes.looks_like_code("123456")


def test_the_same_code_hashes_differently_with_another_salt() -> None:
    code = backup_codes.generate(1)[0]
    one, two = backup_codes.new_salt(), backup_codes.new_salt()
    assert backup_codes.digest(code, one) != backup_codes.digest(code, two)
    assert backup_codes.matches(code.upper(), salt=one, code_hash=backup_codes.digest(code, one))
    assert not backup_codes.matches(code, salt=two, code_hash=backup_codes.digest(code, one))
    assert code not in backup_codes.digest(code, one)
