// restify ships no types (and @types/restify describes restify 8); server.ts declares the small surface it uses.
declare module 'restify';
