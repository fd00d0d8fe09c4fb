"""Session bookkeeping of the IPMI emulator when one client talks to many of its BMCs from one UDP port.

pyghmi's client multiplexes up to 64 BMC sessions over one socket; pyghmi's server, seeing a new login from a
port it knows, used to forget that port's sessions on every BMC of the process. The emulator forgets only the
session with the BMC being logged in to, so an established session elsewhere survives (no re-login).
"""

from __future__ import annotations

import pytest
from pyghmi.ipmi import command

from ironworks.lab.bmc.process import BMCLab


def test_relogin_to_one_bmc_keeps_the_session_with_another(bmcs: BMCLab) -> None:
    first, second = bmcs.ipmi[0], bmcs.ipmi[1]
    user, password = first.username.encode(), first.password.encode()
    established = command.Command(first.address, user, password, port=first.port)
    assert established.raw_command(netfn=0, command=1)["code"] == 0
    session_id = established.ipmi_session.sessionid

    for _ in range(2):  # failed logins to the second BMC from the same client socket
        with pytest.raises(Exception, match="password"):
            command.Command(second.address, user, b"wrong-password", port=second.port)

    again = command.Command(first.address, user, password, port=first.port)
    assert again.raw_command(netfn=0, command=1)["code"] == 0
    assert again.ipmi_session is established.ipmi_session
    assert again.ipmi_session.sessionid == session_id  # answered within the session, no re-login
