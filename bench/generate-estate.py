#!/usr/bin/env python3
"""Writes a synthetic VMware estate for scale tests of VirtSecScan.

Layout: OUT/esxi-NNN/vmware-vl.txt (the host's `vmware -vl` output) and OUT/esxi-NNN/<vm>.vmx, VMs spread
evenly over the hosts. Every file is made up (names, UUIDs, MAC addresses, datastores); the same seed
gives byte-identical output. Each .vmx looks like one ESXi 7/8 writes (about 110 lines) with a random
mix of hardening settings, devices and resource settings, so the rules see passes and failures.

usage: generate-estate.py OUT [--vms 10000] [--hosts 500] [--seed 20261127]
"""
import argparse
import os
import random

BUILDS = [
    ("8.0.3", "24784735", "VMware ESXi 8.0 Update 3"),
    ("8.0.2", "23305546", "VMware ESXi 8.0 Update 2"),
    ("7.0.3", "21930508", "VMware ESXi 7.0 Update 3"),
    ("6.7.0", "17167734", "VMware ESXi 6.7.0 Update 3"),
]
ROLES = ["his-app", "his-db", "emr-app", "lis-app", "pacs", "ris", "vdi", "portal", "gw", "infra"]
GUESTS = ["windows2019srv-64", "windows2022srvNext-64", "rhel8-64", "rhel9-64", "ubuntu-64", "sles15-64"]


def hexbytes(rng, n):
    return " ".join(f"{rng.randrange(256):02x}" for _ in range(n))


def uuid(rng):
    return f"{hexbytes(rng, 8)}-{hexbytes(rng, 8)}"


def maybe(rng, p, line, lines):
    if rng.random() < p:
        lines.append(line)


def vmx(rng, name, host_index):
    datastore = f"{rng.randrange(16**8):08x}-{rng.randrange(16**8):08x}-{rng.randrange(16**4):04x}-{rng.randrange(16**12):012x}"
    hw = rng.choice(["14", "17", "19", "20", "21"])
    lines = [
        '.encoding = "UTF-8"',
        'config.version = "8"',
        f'virtualHW.version = "{hw}"',
        'vmci0.present = "TRUE"',
        'floppy0.present = "FALSE"' if rng.random() < 0.9 else 'floppy0.present = "TRUE"',
        'svga.vramSize = "8388608"',
        f'numvcpus = "{rng.choice([2, 4, 8, 16])}"',
        'cpuid.coresPerSocket = "2"',
        f'memSize = "{rng.choice([4096, 8192, 16384, 32768, 65536])}"',
    ]
    if rng.random() < 0.7:
        lines.append('firmware = "efi"')
        maybe(rng, 0.6, 'uefi.secureBoot.enabled = "TRUE"', lines)
    lines += [
        'tools.upgrade.policy = "manual"',
        'sched.cpu.units = "mhz"',
        f'vm.createDate = "{1700000000000000 + rng.randrange(10**14)}"',
        'scsi0.virtualDev = "pvscsi"',
        'scsi0.present = "TRUE"',
        'sata0.present = "TRUE"',
    ]
    iso = rng.random() < 0.1
    lines += [
        f'sata0:0.startConnected = "{"TRUE" if iso or rng.random() < 0.2 else "FALSE"}"',
        f'sata0:0.deviceType = "{"cdrom-image" if iso else "atapi-cdrom"}"',
        f'sata0:0.fileName = "{f"/vmfs/volumes/{datastore}/iso/install.iso" if iso else "emptyBackingString"}"',
        'sata0:0.present = "TRUE"',
    ]
    for unit in range(rng.randrange(1, 4)):
        suffix = "" if unit == 0 else f"_{unit}"
        lines += [
            f'scsi0:{unit}.deviceType = "scsi-hardDisk"',
            f'scsi0:{unit}.fileName = "{name}{suffix}.vmdk"',
            f'sched.scsi0:{unit}.shares = "normal"',
            f'sched.scsi0:{unit}.throughputCap = "off"',
            f'scsi0:{unit}.present = "TRUE"',
        ]
        maybe(rng, 0.03, f'scsi0:{unit}.mode = "independent-nonpersistent"', lines)
    lines += [
        'ethernet0.allowGuestConnectionControl = "FALSE"',
        'ethernet0.virtualDev = "vmxnet3"',
        f'ethernet0.networkName = "VLAN{100 + rng.randrange(40)}"',
        'ethernet0.addressType = "vpx"',
        f'ethernet0.generatedAddress = "00:50:56:{rng.randrange(256):02x}:{rng.randrange(256):02x}:{rng.randrange(256):02x}"',
        'ethernet0.uptCompatibility = "TRUE"',
        'ethernet0.present = "TRUE"',
        f'displayName = "{name}"',
        f'guestOS = "{rng.choice(GUESTS)}"',
        'toolScripts.afterPowerOn = "TRUE"',
        'toolScripts.afterResume = "TRUE"',
        'toolScripts.beforeSuspend = "TRUE"',
        'toolScripts.beforePowerOff = "TRUE"',
        'tools.syncTime = "FALSE"',
        f'uuid.bios = "{uuid(rng)}"',
        f'vc.uuid = "{uuid(rng)}"',
        f'nvram = "{name}.nvram"',
        'pciBridge0.present = "TRUE"',
        'svga.present = "TRUE"',
        'pciBridge4.present = "TRUE"',
        'pciBridge4.virtualDev = "pcieRootPort"',
        'pciBridge4.functions = "8"',
        'pciBridge5.present = "TRUE"',
        'pciBridge5.virtualDev = "pcieRootPort"',
        'pciBridge5.functions = "8"',
        'pciBridge6.present = "TRUE"',
        'pciBridge6.virtualDev = "pcieRootPort"',
        'pciBridge6.functions = "8"',
        'pciBridge7.present = "TRUE"',
        'pciBridge7.virtualDev = "pcieRootPort"',
        'pciBridge7.functions = "8"',
        'hpet0.present = "TRUE"',
        'RemoteDisplay.maxConnections = "1"' if rng.random() < 0.6 else 'RemoteDisplay.maxConnections = "-1"',
        'sched.cpu.latencySensitivity = "normal"',
        'tools.guest.desktop.autolock = "TRUE"' if rng.random() < 0.5 else 'tools.guest.desktop.autolock = "FALSE"',
        'isolation.tools.copy.disable = "TRUE"' if rng.random() < 0.8 else 'isolation.tools.copy.disable = "FALSE"',
        'isolation.tools.paste.disable = "TRUE"' if rng.random() < 0.8 else 'isolation.tools.paste.disable = "FALSE"',
        'isolation.tools.dnd.disable = "TRUE"',
        'isolation.device.connectable.disable = "TRUE"',
        'tools.setInfo.sizeLimit = "1048576"',
        'log.rotateSize = "2048000"',
        'log.keepOld = "10"',
        'migrate.encryptionMode = "opportunistic"' if rng.random() < 0.7 else 'migrate.encryptionMode = "required"',
        f'sched.cpu.min = "{rng.choice([0, 0, 0, 2000, 4000])}"',
        'sched.cpu.shares = "normal"',
        f'sched.mem.min = "{rng.choice([0, 0, 0, 4096, 8192])}"',
        'sched.mem.minSize = "0"',
        'sched.mem.shares = "normal"',
        f'migrate.hostLog = "{name}-{rng.randrange(16**8):08x}.hlog"',
        f'sched.swap.derivedName = "/vmfs/volumes/{datastore}/{name}/{name}-{rng.randrange(16**8):08x}.vswp"',
        f'uuid.location = "{uuid(rng)}"',
        'scsi0.pciSlotNumber = "160"',
        'ethernet0.pciSlotNumber = "192"',
        'sata0.pciSlotNumber = "33"',
        'vmotion.checkpointFBSize = "8388608"',
        'vmotion.checkpointSVGAPrimarySize = "8388608"',
        'cleanShutdown = "FALSE"',
        'softPowerOff = "FALSE"',
        f'guestinfo.hostname = "{name}"',
        f'annotation = "synthetic VM {name} on esxi-{host_index:03d}"',
    ]
    maybe(rng, 0.05, 'usb_xhci.present = "TRUE"', lines)
    maybe(rng, 0.03, 'serial0.present = "TRUE"', lines)
    maybe(rng, 0.02, 'RemoteDisplay.vnc.enabled = "TRUE"', lines)
    maybe(rng, 0.02, 'sched.mem.pshare.salt = "shared"', lines)
    maybe(rng, 0.05, 'mks.enable3d = "TRUE"', lines)
    maybe(rng, 0.05, 'bios.bootDeviceClasses = "allow:hd"', lines)
    maybe(rng, 0.02, 'pciPassthru0.present = "TRUE"', lines)
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--vms", type=int, default=10000)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    for h in range(1, args.hosts + 1):
        folder = os.path.join(args.out, f"esxi-{h:03d}")
        os.makedirs(folder, exist_ok=True)
        version, build, update = rng.choice(BUILDS)
        with open(os.path.join(folder, "vmware-vl.txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write(f"VMware ESXi {version} build-{build}\n{update}\n")
    for v in range(args.vms):
        host = v % args.hosts + 1
        name = f"{ROLES[v % len(ROLES)]}-{v:05d}"
        with open(os.path.join(args.out, f"esxi-{host:03d}", f"{name}.vmx"), "w", encoding="utf-8", newline="\n") as f:
            f.write(vmx(rng, name, host))
    print(f"{args.out}: {args.vms} VMs on {args.hosts} hosts (seed {args.seed})")


if __name__ == "__main__":
    main()
