#!/usr/bin/env python3
"""Peer for bench/run-vsphere.sh: reads the same host and VM properties as VirtSecScan's vsphere target, but
one RetrievePropertiesEx per object, the way per-object scripts do it (for example PowerCLI's
`Get-VM | Get-AdvancedSetting` or a loop over `govc object.collect` calls).
Prints one line: objects, round trips, seconds. Loopback benchmark only: certificate checks are off.

usage: per_object_retrieval.py URL USER PASSWORD
"""
import http.client, re, ssl, sys, time, urllib.parse
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

HOST_PATHS = ["name", "config.product", "config.option", "config.service", "config.firewall", "config.network.vswitch",
              "config.network.portgroup", "config.dateTimeInfo", "config.lockdownMode"]
VM_PATHS = ["name", "config.uuid", "config.instanceUuid", "config.version", "config.guestId", "config.firmware",
            "config.bootOptions", "config.flags", "config.extraConfig", "config.hardware.device", "runtime.host"]

url = urllib.parse.urlparse(sys.argv[1])
user, password = sys.argv[2], sys.argv[3]
conn = http.client.HTTPSConnection(url.hostname, url.port, context=ssl._create_unverified_context())
cookie = None
trips = 0

def call(body):
    global cookie, trips
    trips += 1
    env = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>' + body + '</soapenv:Body></soapenv:Envelope>')
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:vim25/6.5"'}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("POST", url.path, env.encode(), headers)
    r = conn.getresponse()
    text = r.read().decode()
    c = r.getheader("Set-Cookie")
    if c:
        cookie = c.split(";")[0]
    ET.fromstring(text)  # a real tool reads every answer
    if "Fault>" in text:
        sys.exit("fault: " + text[:300])
    return text

def retrieve(spec):
    return call('<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this>'
                + spec + '<options/></RetrievePropertiesEx>')

start = time.monotonic()
content = call('<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>')
root = re.search(r"<rootFolder[^>]*>([^<]+)<", content).group(1)
call('<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>%s</userName><password>%s</password></Login>'
     % (escape(user), escape(password)))
view = re.search(r"<returnval[^>]*>([^<]+)<", call(
    '<CreateContainerView xmlns="urn:vim25"><_this type="ViewManager">ViewManager</_this><container type="Folder">%s</container>'
    '<type>HostSystem</type><type>VirtualMachine</type><recursive>true</recursive></CreateContainerView>' % root)).group(1)
listing = retrieve('<specSet><propSet><type>ManagedEntity</type><pathSet>name</pathSet></propSet><objectSet><obj type="ContainerView">%s</obj>'
                   '<skip>true</skip><selectSet xsi:type="TraversalSpec"><name>v</name><type>ContainerView</type><path>view</path>'
                   '<skip>false</skip></selectSet></objectSet></specSet>' % view)
objects = re.findall(r'<obj type="(HostSystem|VirtualMachine)">([^<]+)</obj>', listing)
for kind, moref in objects:
    paths = "".join("<pathSet>%s</pathSet>" % p for p in (HOST_PATHS if kind == "HostSystem" else VM_PATHS))
    retrieve('<specSet><propSet><type>%s</type>%s</propSet><objectSet><obj type="%s">%s</obj></objectSet></specSet>' % (kind, paths, kind, moref))
call('<DestroyView xmlns="urn:vim25"><_this type="ContainerView">%s</_this></DestroyView>' % view)
call('<Logout xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this></Logout>')
print("objects=%d round_trips=%d seconds=%.2f" % (len(objects), trips, time.monotonic() - start))
