const securityHeaders = require("./lib/security-headers.json");

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native modules and Node-only code load from node_modules at run time, not from the bundle.
  serverExternalPackages: ["better-sqlite3", "@node-rs/argon2", "undici", "@peculiar/x509"],
  poweredByHeader: false,
  reactStrictMode: true,
  typescript: { ignoreBuildErrors: true }, // `npm test` runs tsc itself; the build need not repeat it
  // Server actions read at most this much; server.ts also counts every body as it streams.
  experimental: { serverActions: { bodySizeLimit: "1mb" } },
  async headers() {
    return [
      {
        source: "/((?!_next/static).*)",
        headers: securityHeaders.common,
      },
      // Pages get a nonce-based CSP from proxy.ts; API answers are data and may load nothing.
      { source: "/api/:path*", headers: securityHeaders.api },
    ];
  },
};

module.exports = nextConfig;
