#!/usr/bin/python3
"""An independent XMPP client (slixmpp, Debian's python3-slixmpp) for Satellite's
end-to-end tests: logs in over c2s, sends one stanza, waits for the expected answer and
prints one JSON line with what happened. Exit code 0 when the answer came.

  slix_client.py message JID PASSWORD HOST PORT TO BODY
  slix_client.py ping    JID PASSWORD HOST PORT TO
  slix_client.py iq      JID PASSWORD HOST PORT TO TYPE PAYLOAD_XML   (prints the answer as XML)
  slix_client.py muc     JID PASSWORD HOST PORT ROOM/NICK BODY
      joins the room (xep_0045), sends BODY as a groupchat, waits for its reflection and for one
      groupchat from another occupant; reports the self-presence's status codes, the subject,
      the occupants, the reflection and that message
"""
import asyncio
import json
import sys
import time

import xml.etree.ElementTree as ET

import slixmpp


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mode, to, body):
        super().__init__(jid, password)
        self.mode, self.to, self.body = mode, to, body
        self.result = {"ok": False}
        self["feature_mechanisms"].unencrypted_plain = True
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.register_plugin("xep_0045")
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("failed_auth", lambda _e: self.finish({"ok": False, "error": "auth failed"}))

    def finish(self, result):
        self.result = result
        self.disconnect()

    async def start(self, _event):
        self.send_presence()
        self.t0 = time.monotonic()
        if self.mode == "message":
            self.send_message(mto=self.to, mbody=self.body, mtype="chat")
        elif self.mode == "iq":
            iq_type, payload = self.body.split(" ", 1)
            iq = self.make_iq(ito=self.to, itype=iq_type)
            iq.append(ET.fromstring(payload))
            try:
                answer = await iq.send(timeout=5)
                self.finish({"ok": True, "type": answer["type"], "xml": str(answer)})
            except slixmpp.exceptions.IqError as e:
                self.finish({"ok": False, "type": "error", "condition": e.condition, "xml": str(e.iq)})
            except Exception as e:  # noqa: BLE001
                self.finish({"ok": False, "error": repr(e)})
        elif self.mode == "muc":
            await self.muc()
        elif self.mode == "ping":
            try:
                await self["xep_0199"].ping(jid=self.to, timeout=5)
                info = await self["xep_0030"].get_info(jid=self.to, timeout=5)
                features = sorted(info["disco_info"]["features"])
                self.finish({"ok": True, "features": features, "ms": round((time.monotonic() - self.t0) * 1000, 1)})
            except Exception as e:  # noqa: BLE001
                self.finish({"ok": False, "error": repr(e)})

    async def muc(self):
        room, nick = self.to.split("/", 1)
        report = {"ok": False}
        others = asyncio.get_event_loop().create_future()
        reflected = asyncio.get_event_loop().create_future()

        def on_groupchat(msg):
            if not msg["body"]:
                return
            if msg["from"].resource == report.get("nick"):
                if not reflected.done():
                    reflected.set_result(msg)
            elif not others.done():
                others.set_result(msg)

        self.add_event_handler("muc::%s::message" % room, on_groupchat)
        seen = []  # what came in, reported on failure
        self.add_event_handler("presence", lambda p: seen.append(str(p)))
        self.add_event_handler("message", lambda m: seen.append(str(m)))
        try:
            pres, subject, occupants, _history = await self["xep_0045"].join_muc_wait(room, nick, timeout=5)
            report.update({
                "nick": pres["from"].resource,
                "codes": sorted(pres["muc"]["status_codes"]),
                "subject": subject["subject"],
                "occupants": [str(p["from"].resource) for p in occupants if p["from"].resource != pres["from"].resource],
            })
            self.send_message(mto=room, mbody=self.body, mtype="groupchat")
            echo = await asyncio.wait_for(reflected, timeout=5)
            report["reflected"] = {"id": echo["id"], "body": echo["body"]}
            other = await asyncio.wait_for(others, timeout=5)
            report.update({"ok": True, "other": {"from": str(other["from"]), "body": other["body"]}})
        except slixmpp.exceptions.PresenceError as e:
            report["error"] = "presence error: %s" % e.condition
        except Exception as e:  # noqa: BLE001
            report["error"] = repr(e)
        if not report["ok"]:
            report["seen"] = seen
        self.finish(report)

    def on_message(self, msg):
        if self.mode != "message":
            return
        self.finish({
            "ok": msg["type"] != "error" and self.body in msg["body"],
            "type": msg["type"],
            "from": str(msg["from"]),
            "body": msg["body"],
            "ms": round((time.monotonic() - self.t0) * 1000, 1),
        })


def main():
    mode, jid, password, host, port, to = sys.argv[1:7]
    body = " ".join(sys.argv[7:]) if len(sys.argv) > 7 else ""
    client = Client(jid, password, mode, to, body)
    client.connect(address=(host, int(port)), disable_starttls=True, use_ssl=False)
    loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(client.disconnected, timeout=15))
    except asyncio.TimeoutError:
        client.result = {"ok": False, "error": "timeout"}
    print(json.dumps(client.result))
    sys.exit(0 if client.result.get("ok") else 1)


if __name__ == "__main__":
    main()
