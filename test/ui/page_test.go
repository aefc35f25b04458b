package ui

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pollEvery is how often until looks at the page again.
const pollEvery = 50 * time.Millisecond

// until waits for a JavaScript expression to be true in the page. chromedp.Poll builds its
// predicate with new Function, which the dashboard's CSP (no 'unsafe-eval') refuses; an
// expression sent over the DevTools protocol is not subject to it.
func until(expr string) chromedp.Action[chromedp.Void] {
	eval := chromedp.Evaluate[bool](expr)
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			ok, err := eval(ctx, tg)
			if err != nil {
				return chromedp.Void{}, fmt.Errorf("evaluate %s: %w", expr, err)
			}
			if ok {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", expr, ctx.Err())
			case <-time.After(pollEvery):
			}
		}
	}
}

// eval runs a JavaScript expression in the page for its side effects.
func eval(expr string) chromedp.Action[chromedp.Void] {
	e := chromedp.Evaluate[any](expr)
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := e(ctx, tg)
		return chromedp.Void{}, err
	}
}

// value evaluates a JavaScript expression in the page, failing the test on an error.
func value[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	vctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(vctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// signIn opens the dashboard, answers its token prompt and waits for the page to be live
// and to show ready (a CSS selector).
func signIn(t *testing.T, ctx context.Context, shots, base, token, ready string) {
	t.Helper()
	steps(t, ctx, shots, "sign-in",
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS(`#token-input`)),
		chromedp.SendKeys(chromedp.CSS(`#token-input`), token),
		chromedp.Click(chromedp.CSS(`#login-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#live.live`)),
		chromedp.WaitVisible(chromedp.CSS(ready)),
	)
}

// recordPage replaces the page's confirm with one that records each question and answers
// window.heliosAnswer, and records every request but the event stream in
// window.heliosCalls ("METHOD path").
const recordPage = `(() => {
  window.heliosAsked = [];
  window.heliosAnswer = false;
  window.confirm = (q) => { window.heliosAsked.push(q); return window.heliosAnswer; };
  window.heliosCalls = [];
  const f = window.fetch;
  window.fetch = (path, init) => {
    if (!String(path).startsWith("/events")) window.heliosCalls.push(((init && init.method) || "GET") + " " + path);
    return f(path, init);
  };
  return true;
})()`

// eventsSeen is how many events the page says it has handled.
const eventsSeen = `parseInt(document.getElementById("event-count").textContent || "0", 10)`

// answer sets what the recorded confirm answers from now on.
func answer(yes bool) chromedp.Action[chromedp.Void] {
	return eval(fmt.Sprintf(`window.heliosAnswer = %t`, yes))
}

// countCalls is how many recorded requests start with prefix ("PATCH ", "GET /jobs").
func countCalls(t *testing.T, ctx context.Context, prefix string) int {
	t.Helper()
	return value[int](t, ctx, fmt.Sprintf(`window.heliosCalls.filter((c) => c.startsWith(%q)).length`, prefix))
}
