/** QEMU command lines, SSH argv and the VM-in-container Dockerfile: pure functions, no VM. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sshArgv } from '../../src/qemu/ssh.js';
import { kernelAppend, optValue, poweredOff, qemuArgv, type VmSpec } from '../../src/qemu/vm.js';
import { imagePackages, vmImageDockerfile } from '../../src/qemu/image.js';
import { mmdebstrapArgv, newest } from '../../src/qemu/debian-base.js';

const base: VmSpec = {
  arch: 'amd64',
  accel: 'tcg',
  memory: '2G',
  cpus: 2,
  disk: '/c/disk.qcow2',
  boot: { kind: 'kernel', kernel: '/c/vmlinuz', initrd: '/c/initrd.img', append: kernelAppend('amd64') },
  seed: '/c/seed.iso',
  forwards: [
    { hostPort: 40022, guestPort: 22 },
    { hostPort: 40080, guestPort: 80 },
  ],
  serial: { file: '/l/serial.log' },
  pidFile: '/l/qemu.pid',
};

function after(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('qemuArgv', () => {
  it('amd64 under TCG: q35, -cpu max, direct kernel boot, -no-reboot', () => {
    const { binary, args } = qemuArgv(base);
    assert.equal(binary, 'qemu-system-x86_64');
    assert.deepEqual(after(args, '-machine'), ['q35,graphics=off']);
    assert.deepEqual(after(args, '-accel'), ['tcg,thread=multi']);
    assert.deepEqual(after(args, '-cpu'), ['max']);
    assert.ok(args.includes('-no-reboot') && args.includes('-nodefaults'));
    assert.deepEqual(after(args, '-kernel'), ['/c/vmlinuz']);
    assert.deepEqual(after(args, '-append'), ['root=/dev/vda rw console=ttyS0 panic=1']);
    assert.deepEqual(after(args, '-serial'), ['file:/l/serial.log']);
    assert.deepEqual(after(args, '-monitor'), ['none']);
  });
  it('forwards bind 127.0.0.1 only, and no network boot ROM', () => {
    const { args } = qemuArgv(base);
    assert.deepEqual(after(args, '-netdev'), ['user,id=n0,hostfwd=tcp:127.0.0.1:40022-:22,hostfwd=tcp:127.0.0.1:40080-:80']);
    assert.deepEqual(
      after(args, '-device').filter((d) => d.startsWith('virtio-net')),
      ['virtio-net-pci,netdev=n0,romfile='],
    );
  });
  it('the seed is a read-only second disk', () => {
    const drives = after(qemuArgv(base).args, '-drive');
    assert.deepEqual(drives, [
      'file=/c/disk.qcow2,if=virtio,format=qcow2,discard=unmap,cache=writeback',
      'file=/c/seed.iso,if=virtio,format=raw,readonly=on',
    ]);
  });
  it('KVM uses -cpu host; snapshot discards writes', () => {
    const { args } = qemuArgv({ ...base, accel: 'kvm', snapshot: true });
    assert.deepEqual(after(args, '-accel'), ['kvm']);
    assert.deepEqual(after(args, '-cpu'), ['host']);
    assert.match(after(args, '-drive')[0]!, /,snapshot=on$/);
  });
  it('arm64: virt, cortex-a57 (not max: pointer authentication halves TCG speed), ttyAMA0', () => {
    const { binary, args } = qemuArgv({
      ...base,
      arch: 'arm64',
      boot: { kind: 'kernel', kernel: 'k', initrd: 'i', append: kernelAppend('arm64') },
    });
    assert.equal(binary, 'qemu-system-aarch64');
    assert.deepEqual(after(args, '-machine'), ['virt']);
    assert.deepEqual(after(args, '-cpu'), ['cortex-a57']);
    assert.match(after(args, '-append')[0]!, /console=ttyAMA0/);
  });
  it('firmware boot on amd64: SeaBIOS gives up on an unbootable disk and -no-reboot ends QEMU', () => {
    const { args } = qemuArgv({ ...base, boot: { kind: 'firmware' } });
    assert.deepEqual(after(args, '-boot'), ['order=c,reboot-timeout=5000']);
    assert.ok(!args.includes('-kernel'));
  });
  it('firmware boot on arm64 uses the given UEFI code as read-only pflash', () => {
    const { args } = qemuArgv({
      ...base,
      arch: 'arm64',
      boot: { kind: 'firmware', firmwareCode: '/fw/CODE.fd', firmwareVars: '/v/VARS.fd' },
    });
    assert.deepEqual(after(args, '-drive').slice(0, 2), [
      'if=pflash,format=raw,readonly=on,file=/fw/CODE.fd',
      'if=pflash,format=raw,file=/v/VARS.fd',
    ]);
  });
  it('commas in paths are doubled (QEMU option syntax)', () => {
    assert.equal(optValue('/a,b/c.qcow2'), '/a,,b/c.qcow2');
    assert.match(after(qemuArgv({ ...base, disk: '/x,y/disk.qcow2' }).args, '-drive')[0]!, /^file=\/x,,y\/disk\.qcow2,/);
  });
  it('no disk, no network: the KVM probe', () => {
    const { args } = qemuArgv({ ...base, disk: '', seed: undefined as never, noNetwork: true });
    assert.equal(after(args, '-drive').length, 0);
    assert.equal(after(args, '-netdev').length, 0);
  });
  it('the terminal console multiplexes the monitor', () => {
    const { args } = qemuArgv({ ...base, serial: 'stdio' });
    assert.deepEqual(after(args, '-chardev'), ['stdio,id=con0,mux=on,signal=off']);
    assert.deepEqual(after(args, '-serial'), ['chardev:con0']);
  });
  it('recognises a clean power-off on the console', () => {
    assert.ok(poweredOff('[  12.3] reboot: Power down\n'));
    assert.ok(!poweredOff('[  12.3] reboot: Restarting system\n'));
  });
});

describe('sshArgv', () => {
  const t = { port: 40022, user: 'idekube-provision', keyFile: '/k/id_ed25519', knownHosts: '/k/known_hosts' };
  it('talks to 127.0.0.1 only, with the build key and a pinned per-build known_hosts', () => {
    const a = sshArgv(t, ['sudo', '-n', 'true']);
    assert.equal(a[a.indexOf('--') - 1], 'idekube-provision@127.0.0.1');
    assert.ok(
      a.includes('UserKnownHostsFile=/k/known_hosts') && a.includes('StrictHostKeyChecking=accept-new') && a.includes('BatchMode=yes'),
    );
    assert.deepEqual(a.slice(a.indexOf('--') + 1), ['sudo', '-n', 'true']);
    assert.deepEqual(a.slice(0, 2), ['-F', '/dev/null']);
  });
  for (const bad of ['a b', 'x;rm', '$(id)', "it's", 'a|b', '']) {
    it(`refuses to send ${JSON.stringify(bad)} to the remote shell`, () => assert.throws(() => sshArgv(t, ['echo', bad]), /refusing/));
  }
});

describe('VM-in-container Dockerfile', () => {
  const spec = {
    flavorId: 'web/base',
    arch: 'amd64' as const,
    baseImage: '127.0.0.1:5000/idekube-test/debian:bookworm',
    diskKey: '0123456789abcdef',
    kernelBoot: true,
  };
  it('is deterministic and installs QEMU from the distribution', () => {
    const df = vmImageDockerfile(spec);
    assert.equal(df, vmImageDockerfile(spec));
    assert.match(df, /^ARG QEMU_BASE_IMAGE=127\.0\.0\.1:5000\/idekube-test\/debian:bookworm$/m);
    assert.match(df, /^FROM \$\{QEMU_BASE_IMAGE\}$/m);
    assert.match(df, /apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils ovmf genisoimage/);
    assert.match(df, /^VOLUME \["\/var\/lib\/data"\]$/m);
    assert.match(df, /^ENTRYPOINT \["\/usr\/local\/bin\/idekube-vm"\]$/m);
    assert.ok(!/make|configure|download\.qemu/.test(df), 'no from-source QEMU build');
  });
  it("arm64 ships qemu-system-arm and the distribution's aarch64 UEFI firmware", () => {
    assert.deepEqual(imagePackages('arm64').slice(0, 3), ['qemu-system-arm', 'qemu-utils', 'qemu-efi-aarch64']);
  });
  it('the package step is the same for every flavor (shared build cache)', () => {
    const a = vmImageDockerfile(spec).split('\n');
    const b = vmImageDockerfile({ ...spec, flavorId: 'web/extra', diskKey: 'ffffffffffffffff' }).split('\n');
    const run = (l: string[]) =>
      l.slice(
        l.findIndex((x) => x.startsWith('RUN')),
        l.findIndex((x) => x.startsWith('COPY')),
      );
    assert.deepEqual(run(a), run(b));
  });
});

describe('Debian base recipe', () => {
  it('mmdebstrap: no mirror unless given, cloud kernel, fixed hook text', () => {
    const a = mmdebstrapArgv('arm64', 'bookworm', '', ['websockify'], '/o.tar');
    assert.deepEqual(a.slice(-2), ['bookworm', '/o.tar']);
    assert.ok(a.includes('--variant=minbase') && a.includes('--architectures=arm64'));
    assert.match(a.find((x) => x.startsWith('--include='))!, /^--include=linux-image-cloud-arm64,.*openssh-server.*,websockify$/);
    assert.ok(a.some((x) => x.includes('MODULES=list')));
    assert.ok(a.some((x) => x.includes('nameserver 10.0.2.3')));
    assert.ok(
      a.some((x) => x.includes('ssh_host_')),
      'no host keys in the disk',
    );
    assert.deepEqual(mmdebstrapArgv('amd64', 'bookworm', 'http://mirror.example/debian', [], '/o.tar').slice(-1), [
      'http://mirror.example/debian',
    ]);
  });
  it('picks the newest kernel by version', () => {
    assert.equal(
      newest(['vmlinuz-6.1.0-9-cloud-amd64', 'vmlinuz-6.1.0-10-cloud-amd64', 'config-x'], 'vmlinuz-'),
      'vmlinuz-6.1.0-10-cloud-amd64',
    );
  });
});
