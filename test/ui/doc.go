// Package ui tests the web dashboard (controller/ui) in a real browser: chromedp drives
// Debian's chromium, headless, against an in-process master with hollow agents. Without
// chromium the tests skip naming it; with HELIOS_REQUIRE_DOCKER=1 (CI) they fail instead.
package ui
