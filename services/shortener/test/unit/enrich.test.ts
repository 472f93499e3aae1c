// Click enrichment against the shipped IP-to-country database: every spelling of a non-public
// address is "unknown" (a country means nothing there), public ones get their country, and
// referrers reduce to a host.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClickEnricher, referrerHost } from '../../src/clicks/enrich.ts'

const enricher = await createClickEnricher()
const countryOf = (ip: string) => enricher.enrich({ ip, referrer: undefined, userAgent: undefined }).country

test('loopback, private, link-local, CGNAT and unique-local addresses have no country, however spelled', () => {
  const notPublic = [
    '127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.10.10', '100.64.0.1', '100.127.255.254',
    '0.0.0.0', '::1', '0:0:0:0:0:0:0:1', '::', 'fd12:3456::1', 'FC00::1', 'fe80::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1'
  ]
  for (const ip of notPublic) assert.equal(countryOf(ip), 'unknown', ip)
})

test('public addresses get the database country, IPv4-mapped ones too; junk is unknown', () => {
  assert.equal(countryOf('8.8.8.8'), 'US')
  assert.equal(countryOf('::ffff:8.8.8.8'), 'US')
  assert.equal(countryOf('172.32.0.1'), countryOf('::ffff:172.32.0.1'))
  assert.notEqual(countryOf('100.128.0.1'), undefined)
  for (const junk of ['', 'not-an-ip', '999.1.1.1', '8.8.8.8, 1.1.1.1']) assert.equal(countryOf(junk), 'unknown', junk)
})

test('a referrer becomes its lower-cased host without www.; anything else is direct or unknown', () => {
  assert.equal(referrerHost('https://WWW.News.Example/path?q=1'), 'news.example')
  assert.equal(referrerHost('http://user:pw@blog.example:8080/x'), 'blog.example')
  assert.equal(referrerHost(undefined), '(direct)')
  assert.equal(referrerHost('not a url'), 'unknown')
})
