// Two instances of oauth2-mock-server (a third-party OpenID provider) on loopback, for
// tests/idp_openid_provider.rs. Instance A is the real provider. Instance B is an impostor:
// it claims A's issuer URL and signs with its own key under A's key id. Prints one JSON line
// with A's issuer and both token endpoints, then runs until stdin closes.
import { OAuth2Server } from 'oauth2-mock-server';

const a = new OAuth2Server();
await a.issuer.keys.generate('RS256', { kid: 'shared-kid' });
await a.start(0, '127.0.0.1');
a.issuer.url = `http://127.0.0.1:${a.address().port}`;

const b = new OAuth2Server();
await b.issuer.keys.generate('RS256', { kid: 'shared-kid' });
await b.start(0, '127.0.0.1');
b.issuer.url = a.issuer.url;

const port = (s) => s.address().port;
console.log(JSON.stringify({
  issuer: a.issuer.url,
  token_a: `http://127.0.0.1:${port(a)}/token`,
  token_b: `http://127.0.0.1:${port(b)}/token`,
}));

process.stdin.resume();
process.stdin.on('end', async () => {
  await a.stop();
  await b.stop();
  process.exit(0);
});
