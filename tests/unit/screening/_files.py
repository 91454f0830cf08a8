"""List files for the screening tests: a small OFAC-shaped sdn.xml, CSVs, hostile XML."""

from __future__ import annotations

from pathlib import Path

SDN_NAMESPACE = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML"
EVM_LISTED = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
BTC_LISTED = "bc1qa5wkgaew2dkv56kfvj49j0av5nml45x9ek9hz6"
XMR_LISTED = "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge"


def sdn_xml(entries: str | None = None) -> str:
    """An sdnList as OFAC publishes it: namespace, publication info, entries with idLists."""
    body = (
        entries
        if entries is not None
        else f"""
  <sdnEntry>
    <uid>30518</uid>
    <lastName>LAZARUS GROUP</lastName>
    <sdnType>Entity</sdnType>
    <programList><program>DPRK3</program></programList>
    <idList>
      <id><uid>12001</uid><idType>Digital Currency Address - ETH</idType><idNumber>{EVM_LISTED}</idNumber></id>
      <id><uid>12002</uid><idType>Digital Currency Address - XBT</idType><idNumber>{BTC_LISTED}</idNumber></id>
      <id><uid>12003</uid><idType>Registration ID</idType><idNumber>NOT-AN-ADDRESS</idNumber></id>
    </idList>
  </sdnEntry>
  <sdnEntry>
    <uid>30519</uid>
    <firstName>Ivan</firstName>
    <lastName>PETROV</lastName>
    <sdnType>Individual</sdnType>
    <idList>
      <id><uid>12004</uid><idType>Digital Currency Address - XMR</idType><idNumber>{XMR_LISTED}</idNumber></id>
      <id><uid>12005</uid><idType>Digital Currency Address - USDT</idType><idNumber>{EVM_LISTED}</idNumber></id>
    </idList>
  </sdnEntry>
  <sdnEntry>
    <uid>30520</uid>
    <lastName>NO CRYPTO LTD</lastName>
    <sdnType>Entity</sdnType>
  </sdnEntry>"""
    )
    return f"""<?xml version="1.0" standalone="yes"?>
<sdnList xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="{SDN_NAMESPACE}">
  <publshInformation><Publish_Date>12/01/2026</Publish_Date><Record_Count>3</Record_Count></publshInformation>{body}
</sdnList>
"""


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE sdnList [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<sdnList><sdnEntry><uid>1</uid><lastName>&lol3;</lastName></sdnEntry></sdnList>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE sdnList [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<sdnList><sdnEntry><uid>1</uid><lastName>&secret;</lastName>
<idList><id><idType>Digital Currency Address - XBT</idType><idNumber>1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH</idNumber></id></idList>
</sdnEntry></sdnList>
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
