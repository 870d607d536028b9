"""Trading partners: added by command (or admin), with their mailbox folders; bad input refused."""
import pytest
from django.core.management import CommandError, call_command

from edi.models import TradingPartner


def test_edi_partner_add_creates_the_partner_and_its_mailbox_folders(nordwerk, tmp_path, capsys):
    call_command("edi_partner", "add", "--supplier", "NORDWERK", "--edi-id", "4012345000009", "--qualifier", "14",
                 "--mailbox", str(tmp_path / "nordwerk"), "--messages", "ordrsp,desadv")
    partner = TradingPartner.objects.get()
    assert (partner.supplier, partner.edi_id, partner.qualifier, partner.charset) == (nordwerk, "4012345000009", "14", "UNOC")
    assert partner.message_types == ["ORDRSP", "DESADV"]
    assert (tmp_path / "nordwerk" / "in").is_dir() and (tmp_path / "nordwerk" / "out").is_dir()
    assert "Added trading partner NORDWERK (14:4012345000009)" in capsys.readouterr().out
    call_command("edi_partner", "add", "--supplier", "NORDWERK", "--edi-id", "4012345000009", "--qualifier", "14",
                 "--mailbox", str(tmp_path / "nordwerk"), "--charset", "UNOY")
    assert TradingPartner.objects.get().charset == "UNOY" and TradingPartner.objects.count() == 1


def test_default_mailbox_lies_under_the_edi_root(nordwerk, tmp_path, settings):
    settings.EDI_MAILBOX_ROOT = tmp_path / "edi"
    call_command("edi_partner", "add", "--supplier", "NORDWERK", "--edi-id", "NORDWERK01")
    assert TradingPartner.objects.get().inbound_dir == str(tmp_path / "edi" / "NORDWERK" / "in")


@pytest.mark.parametrize(("arguments", "message"), [
    (["--supplier", "NOBODY", "--edi-id", "X"], "NOBODY"),
    (["--supplier", "NORDWERK", "--edi-id", "X", "--mailbox", "relative/dir"], "absolute"),
    (["--supplier", "NORDWERK", "--edi-id", "X", "--messages", "ORDERS,IFTMIN"], "IFTMIN"),
    (["--supplier", "NORDWERK", "--edi-id", "X", "--qualifier", "toolong"], "qualifier"),
])
def test_bad_partner_input_is_refused_and_nothing_is_stored(nordwerk, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("edi_partner", "add", *arguments)
    assert not TradingPartner.objects.exists()


def test_an_identity_belongs_to_one_partner(nordwerk, alpenguss, tmp_path):
    call_command("edi_partner", "add", "--supplier", "NORDWERK", "--edi-id", "X1", "--qualifier", "ZZZ",
                 "--mailbox", str(tmp_path / "a"))
    with pytest.raises(CommandError, match="identity|already exists"):
        call_command("edi_partner", "add", "--supplier", "ALPENGUSS", "--edi-id", "X1", "--qualifier", "ZZZ",
                     "--mailbox", str(tmp_path / "b"))
    assert TradingPartner.objects.count() == 1
