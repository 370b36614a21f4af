import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as packet from 'dns-packet';
import { contains, formatCidr, hostRange, macFor, overlaps, parseCidr, parseIp, formatIp } from '../../src/engine/network/ipnet';
import { Firewall, containerDnsRules, groupRanges } from '../../src/engine/network/firewall';
import { portRequests } from '../../src/engine/network/ports';
import { DnsServer } from '../../src/engine/network/dns';

test('ipnet: parsing, containment, overlap, host ranges, Docker-style MACs', () => {
  assert.equal(formatIp(parseIp('10.1.2.3')!), '10.1.2.3');
  assert.equal(parseIp('10.1.2.256'), undefined);
  const c = parseCidr('172.18.5.7/16')!;
  assert.equal(formatCidr(c.cidr), '172.18.0.0/16');
  assert.equal(formatIp(c.ip), '172.18.5.7');
  assert.ok(contains(c.cidr, parseIp('172.18.255.1')!));
  assert.ok(!contains(c.cidr, parseIp('172.19.0.1')!));
  assert.ok(overlaps(parseCidr('10.0.0.0/8')!.cidr, parseCidr('10.5.0.0/24')!.cidr));
  assert.ok(!overlaps(parseCidr('10.5.1.0/24')!.cidr, parseCidr('10.5.0.0/24')!.cidr));
  assert.deepEqual(hostRange(parseCidr('10.0.0.0/30')!.cidr).map(formatIp), ['10.0.0.1', '10.0.0.2']);
  assert.equal(macFor(parseIp('172.17.0.2')!), '02:42:ac:11:00:02');
});

test('ports: bindings, host port ranges, -P over exposed ports', () => {
  const reqs = portRequests(
    { '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostPort: '5300-5310' }] },
    { '80/tcp': {}, '443/tcp': {} },
    true,
  );
  assert.deepEqual(reqs, [
    { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPortLow: 8080, hostPortHigh: 8080 },
    { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortLow: 0, hostPortHigh: 0 },
    { proto: 'udp', containerPort: 53, hostIp: '0.0.0.0', hostPortLow: 5300, hostPortHigh: 5310 },
    { proto: 'tcp', containerPort: 443, hostIp: '0.0.0.0', hostPortLow: 0, hostPortHigh: 0 },
  ]);
});

test('firewall: own chains only, ranges as one rule, isolation order, DNS NAT inside the container', () => {
  const ports = [8000, 8001, 8002].map((p) => ({ proto: 'tcp' as const, containerPort: p, hostIp: '0.0.0.0', hostPort: p }));
  const g = groupRanges([...ports, { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 9000 }]);
  assert.deepEqual(g.map((x) => [x.hostIp, x.low, x.high, x.same]), [['0.0.0.0', 8000, 8002, true], ['127.0.0.1', 9000, 9000, false]]);
  const fw = new Firewall('tst');
  const text = Firewall.render(
    fw,
    [
      { bridge: 'tst0', subnet: '10.1.0.0/24', internal: false, icc: true, masquerade: true },
      { bridge: 'tst-a', subnet: '10.2.0.0/24', internal: true, icc: true, masquerade: true },
    ],
    [{ bridge: 'tst0', target: '10.1.0.2', ports: [...ports, { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 9000 }] }],
  );
  const lines = text.split('\n');
  for (const l of lines.filter((x) => x.startsWith('-A'))) assert.match(l, /^-A TST-(FWD|DNAT|POST|RAW) /);
  assert.ok(lines.includes('-A TST-DNAT ! -i tst0 -p tcp -m tcp --dport 8000:8002 -j DNAT --to-destination 10.1.0.2'));
  assert.ok(lines.includes('-A TST-DNAT -d 127.0.0.1/32 ! -i tst0 -p tcp -m tcp --dport 9000 -j DNAT --to-destination 10.1.0.2:80'));
  assert.ok(lines.includes('-A TST-POST -s 10.1.0.0/24 ! -o tst0 -j MASQUERADE'));
  assert.ok(!lines.some((l) => l.includes('-s 10.2.0.0/24') && l.includes('MASQUERADE')), 'internal networks are not masqueraded');
  // every "into the bridge" drop comes before any "out of a bridge" accept
  const lastDrop = Math.max(...lines.map((l, i) => (/-o \S+ -j DROP/.test(l) ? i : -1)));
  const firstOut = lines.findIndex((l) => /-A TST-FWD -i \S+ -j ACCEPT/.test(l));
  assert.ok(lastDrop < firstOut);
  assert.ok(lines.includes('-A TST-FWD -i tst-a -j DROP'));
  assert.ok(lines.includes('-A TST-RAW -i tst0 -d 127.0.0.0/8 -j DROP'));
  const dns = containerDnsRules('10.1.0.1', '10.1.0.2');
  assert.match(dns, /-A OUTPUT -d 127\.0\.0\.11\/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10\.1\.0\.1:53/);
  assert.match(dns, /-A POSTROUTING -s 127\.0\.0\.0\/8 -d 10\.1\.0\.1\/32 -p tcp -m tcp --dport 53 -j SNAT --to-source 10\.1\.0\.2/);
});

test('dns: local names answered (A, empty AAAA), unknown names SERVFAIL without upstreams', async () => {
  const server = new DnsServer(
    (client, name) => (client === '10.1.0.3' && name === 'web' ? { ips: ['10.1.0.2'] } : undefined),
    () => [],
  );
  const ask = async (name: string, type: 'A' | 'AAAA', client = '10.1.0.3') => {
    const q = packet.encode({ type: 'query', id: 7, flags: packet.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });
    const r = await server.answer(q, client, 'udp');
    return packet.decode(r!);
  };
  const a = await ask('Web.', 'A');
  assert.equal(a.id, 7);
  assert.deepEqual(a.answers?.map((x) => (x as { data: string }).data), ['10.1.0.2']);
  assert.equal((await ask('web', 'AAAA')).answers?.length, 0);
  const other = await ask('web', 'A', '10.9.0.3');
  assert.equal((other as unknown as { rcode: string }).rcode, 'SERVFAIL');
});

test('dns: listens on UDP and TCP, relays unknown names to the upstream', async () => {
  const dgram = await import('node:dgram');
  const net = await import('node:net');
  const r = () => 1 + Math.floor(Math.random() * 250);
  const addr = `127.54.${r()}.${r()}`;
  const up = `127.55.${r()}.${r()}`;
  const upstream = dgram.createSocket('udp4');
  upstream.on('message', (m, ri) => {
    const q = packet.decode(m);
    upstream.send(packet.encode({ type: 'response', id: q.id, questions: q.questions, answers: [{ type: 'A', name: q.questions![0]!.name, ttl: 5, data: '192.0.2.9' }] }), ri.port, ri.address);
  });
  await new Promise<void>((res) => upstream.bind(53, up, res));
  const server = new DnsServer((client, name) => (name === 'db' ? { ips: ['10.0.0.5'] } : undefined), () => [up]);
  await server.listen(addr);
  try {
    const q = (name: string) => packet.encode({ type: 'query', id: 42, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name, class: 'IN' }] });
    const viaUdp = await new Promise<packet.DecodedPacket>((res) => {
      const s = dgram.createSocket('udp4');
      s.on('message', (m) => (s.close(), res(packet.decode(m))));
      s.send(q('outside.example'), 53, addr);
    });
    assert.equal((viaUdp.answers![0] as { data: string }).data, '192.0.2.9');
    const viaTcp = await new Promise<packet.DecodedPacket>((res, rej) => {
      const s = net.connect(53, addr);
      let buf = Buffer.alloc(0);
      s.on('error', rej);
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) (s.destroy(), res(packet.decode(buf.subarray(2))));
      });
      const m = q('db');
      const head = Buffer.alloc(2);
      head.writeUInt16BE(m.length);
      s.write(Buffer.concat([head, m]));
    });
    assert.equal((viaTcp.answers![0] as { data: string }).data, '10.0.0.5');
  } finally {
    server.closeAll();
    upstream.close();
  }
});
