import { describe, expect, it } from 'vitest';
import { CLOUDS, isSameCloudExchangeLink, sameCloudExchangeHosts } from './clouds';

const link = (s: string) => new URL(s);

describe('which Exchange hosts a nextLink may point at', () => {
  it('Global: outlook.office365.com and outlook.office.com are one cloud', () => {
    expect(isSameCloudExchangeLink('https://outlook.office365.com', link('https://outlook.office.com/adminapi/beta/t/InvokeCommand?$skiptoken=x'))).toBe(true);
    expect(isSameCloudExchangeLink('https://outlook.office.com', link('https://OUTLOOK.office365.com/adminapi/beta/t/InvokeCommand'))).toBe(true);
  });

  it('refuses another cloud, another host, plain http and another port', () => {
    const from = 'https://outlook.office365.com';
    expect(isSameCloudExchangeLink(from, link('https://outlook.office365.us/adminapi/beta/t/InvokeCommand'))).toBe(false);
    expect(isSameCloudExchangeLink(from, link('https://outlook.office365.com.evil.example/adminapi'))).toBe(false);
    expect(isSameCloudExchangeLink(from, link('http://outlook.office.com/adminapi'))).toBe(false);
    expect(isSameCloudExchangeLink(from, link('https://outlook.office.com:8443/adminapi'))).toBe(false);
    expect(isSameCloudExchangeLink('https://outlook-dod.office365.us', link('https://outlook.office365.us/adminapi'))).toBe(false);
  });

  it('an endpoint in no known cloud follows only its own host', () => {
    expect(sameCloudExchangeHosts('exo.contoso.example')).toEqual(['exo.contoso.example']);
    expect(isSameCloudExchangeLink('https://exo.contoso.example', link('https://exo.contoso.example/x'))).toBe(true);
    expect(isSameCloudExchangeLink('https://exo.contoso.example', link('https://outlook.office.com/x'))).toBe(false);
  });

  it('every cloud lists its login, Graph and Exchange hosts, and no host is in two clouds', () => {
    for (const c of CLOUDS) expect(c.login.length && c.graph.length && c.exchange.length).toBeTruthy();
    const exchange = CLOUDS.flatMap((c) => c.exchange);
    expect(new Set(exchange).size).toBe(exchange.length);
  });
});
