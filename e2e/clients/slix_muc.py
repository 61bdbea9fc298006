#!/usr/bin/python3
"""A long-lived slixmpp client (Debian's python3-slixmpp) for the MUC end-to-end tests, driven
through stdin and stdout, one JSON object a line:

  slix_muc.py JID PASSWORD HOST PORT

Prints {"ev": "ready"} once the session started, then {"ev": "stanza", "el": TREE} for every
message and presence received (TREE = {"name", "attrs", "children"}; text children are
strings; the namespace is the xmlns attribute where it changes), and one {"re": N, ...} for each
command {"id": N, "op": ...} read:

  {"op": "join", "room", "nick", "maxstanzas"?, "password"?}  xep_0045's join_muc_wait: {"ok", "pres", "subject",
                                                  "occupants", "history"} or {"ok": false, "condition"}
  {"op": "leave", "room", "nick"}                 xep_0045's leave_muc
  {"op": "groupchat", "room", "body"}             a groupchat message from slixmpp's send_message
  {"op": "chat", "to", "body"}                    a chat message (to an occupant: a private message)
  {"op": "nick", "room", "nick"}                  a nick change: presence to room/nick (no <x/>)
  {"op": "info", "jid"}                           xep_0030's get_info: {"ok", "el"} or {"ok": false, "condition"}
  {"op": "mam", "jid", "max", "after"?}           xep_0313's retrieve (XEP-0059 paging): {"ok", "results", "el"}
  {"op": "role", "room", "nick", "role", "reason"?}  xep_0045's set_role: {"ok"} or {"ok": false, "condition"}
  {"op": "affiliation", "room", "jid", "affiliation"}  xep_0045's set_affiliation: the same
  {"op": "list", "room", "affiliation"}          xep_0045's get_affiliation_list: {"ok", "jids"}
  {"op": "invite", "room", "jid", "reason"}      xep_0045's invite (mediated, through the room)
  {"op": "decline", "room", "jid", "reason"}     xep_0045's decline (to the inviter, through the room)

Anything slixmpp itself prints goes to stderr.
"""
import asyncio
import json
import sys

import slixmpp

OUT = sys.stdout
sys.stdout = sys.stderr  # slixmpp's own prints (e.g. in join_muc_wait) stay off the protocol


def emit(obj):
    OUT.write(json.dumps(obj) + "\n")
    OUT.flush()


def tree(el, parent_ns="jabber:client"):
    tag = el.tag
    ns = ""
    if tag.startswith("{"):
        ns, tag = tag[1:].split("}", 1)
    attrs = {}
    for k, v in el.attrib.items():
        if k.startswith("{http://www.w3.org/XML/1998/namespace}"):
            k = "xml:" + k.split("}", 1)[1]
        attrs[k] = v
    if ns and ns != parent_ns:
        attrs["xmlns"] = ns
    children = []
    if el.text:
        children.append(el.text)
    for child in el:
        children.append(tree(child, ns or parent_ns))
        if child.tail:
            children.append(child.tail)
    return {"name": tag, "attrs": attrs, "children": children}


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self["feature_mechanisms"].unencrypted_plain = True
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0045")
        self.register_plugin("xep_0199")
        self.register_plugin("xep_0059")
        self.register_plugin("xep_0313")
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda _e: emit({"ev": "failed_auth"}))
        # Every stanza as it arrives, before slixmpp's handlers (its 'presence' event skips
        # presences from occupant JIDs once xep_0045 has seen them).
        self.add_filter("in", self.report)

    def report(self, stanza):
        if stanza.xml.tag in ("{jabber:client}message", "{jabber:client}presence"):
            emit({"ev": "stanza", "el": tree(stanza.xml)})
        return stanza

    async def start(self, _event):
        self.send_presence()
        await self.get_roster()
        emit({"ev": "ready", "jid": str(self.boundjid)})
        asyncio.ensure_future(self.commands())

    async def commands(self):
        loop = asyncio.get_event_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                self.disconnect()
                return
            cmd = json.loads(line)
            asyncio.ensure_future(self.run(cmd))

    async def run(self, cmd):
        op = cmd["op"]
        muc = self["xep_0045"]
        try:
            if op == "join":
                kw = {"timeout": 5}
                if "maxstanzas" in cmd:
                    kw["maxstanzas"] = cmd["maxstanzas"]
                if "password" in cmd:
                    kw["password"] = cmd["password"]
                pres, subject, occupants, history = await muc.join_muc_wait(cmd["room"], cmd["nick"], **kw)
                res = {
                    "ok": True,
                    "pres": tree(pres.xml),
                    "subject": tree(subject.xml),
                    "occupants": [tree(p.xml) for p in occupants],
                    "history": [tree(m.xml) for m in history],
                }
            elif op == "leave":
                muc.leave_muc(cmd["room"], cmd["nick"])
                res = {"ok": True}
            elif op == "groupchat":
                self.send_message(mto=cmd["room"], mbody=cmd["body"], mtype="groupchat")
                res = {"ok": True}
            elif op == "chat":
                self.send_message(mto=cmd["to"], mbody=cmd["body"], mtype="chat")
                res = {"ok": True}
            elif op == "nick":
                self.send_presence(pto="%s/%s" % (cmd["room"], cmd["nick"]))
                res = {"ok": True}
            elif op == "info":
                info = await self["xep_0030"].get_info(jid=cmd["jid"], timeout=5)
                res = {"ok": True, "el": tree(info.xml)}
            elif op == "mam":
                rsm = {"max": cmd["max"]}
                if "after" in cmd:
                    rsm["after"] = cmd["after"]
                iq = await self["xep_0313"].retrieve(jid=cmd["jid"], rsm=rsm, timeout=5)
                res = {"ok": True, "results": [tree(m.xml) for m in iq["mam"]["results"]], "el": tree(iq.xml)}
            elif op == "role":
                await muc.set_role(cmd["room"], cmd["nick"], cmd["role"], reason=cmd.get("reason", ""), timeout=5)
                res = {"ok": True}
            elif op == "affiliation":
                await muc.set_affiliation(cmd["room"], cmd["affiliation"], jid=cmd["jid"], timeout=5)
                res = {"ok": True}
            elif op == "list":
                jids = await muc.get_affiliation_list(cmd["room"], cmd["affiliation"], timeout=5)
                res = {"ok": True, "jids": sorted(str(j) for j in jids)}
            elif op == "invite":
                muc.invite(cmd["room"], cmd["jid"], cmd["reason"])
                res = {"ok": True}
            elif op == "decline":
                muc.decline(cmd["room"], cmd["jid"], cmd["reason"])
                res = {"ok": True}
            else:
                res = {"ok": False, "error": "unknown op %s" % op}
        except slixmpp.exceptions.PresenceError as e:
            res = {"ok": False, "condition": e.condition, "el": tree(e.presence.xml)}
        except slixmpp.exceptions.IqError as e:
            res = {"ok": False, "condition": e.condition, "el": tree(e.iq.xml)}
        except Exception as e:  # noqa: BLE001
            res = {"ok": False, "error": repr(e)}
        res["re"] = cmd.get("id")
        emit(res)


def main():
    jid, password, host, port = sys.argv[1:5]
    client = Client(jid, password)
    client.connect(address=(host, int(port)), disable_starttls=True, use_ssl=False)
    asyncio.get_event_loop().run_until_complete(client.disconnected)


if __name__ == "__main__":
    main()
