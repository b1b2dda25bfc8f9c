import type { Metadata } from "next";
import localFont from "next/font/local";
import { headers } from "next/headers";
import "./globals.css";

const inter = localFont({
  src: "../node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2",
  variable: "--font-inter",
  display: "swap",
});

export const metadata: Metadata = {
  title: { default: "Gatehouse", template: "%s · Gatehouse" },
  description: "The egress boundary for AI agents",
  icons: { icon: "/favicon.svg" },
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Reading the request makes every page (the 404 too) render per request, so each gets the
  // fresh CSP nonce proxy.ts set; a prerendered page's scripts would carry none.
  await headers();
  return (
    <html lang="en" className={inter.variable}>
      <body className="font-sans text-sm">{children}</body>
    </html>
  );
}
