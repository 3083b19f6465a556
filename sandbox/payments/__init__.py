"""A local, Stripe-like payment provider: the sandbox behind `PAYMENT_PROVIDER_URL`.

It stands in for the external Payment Service (DESIGN.md) so local runs and tests
exercise real HTTP with the same failure modes a real provider has: declines by
test card, server errors, latency, idempotency keys and refunds. Plain standard
library (`http.server`), no Django: it is not part of any site.

API (JSON bodies; every `/v1` and `/sandbox` call needs `Authorization: Bearer <key>`,
the secret key `sk_…`, except tokenization, which also takes the publishable key):

- `POST /v1/payment_methods` `{type: "card", card: {number, exp_month, exp_year, cvc}}`
  with the publishable key `pk_…` (from the browser, as Stripe.js does) or the secret
  one: checks the number (digits, length, Luhn), the expiry (not in the past) and the
  CVC (3 digits, 4 for American Express), and answers a PaymentMethod
  `{id: "pm_…", card: {brand, last4, exp_month, exp_year}}`. A bad field is a 402
  `card_error` naming it in `param` (`number`, `exp_month`, `exp_year`, `cvc`), its
  message never repeating the number. Only the test cards below tokenize (a real
  number is declined, as in Stripe's test mode); the token remembers which test card
  it was, never the number. A token pays one payment intent (repeating that same
  idempotent request replays it) and, unused, expires after
  `SANDBOX_PAYMENTS_TOKEN_TTL_S` (default 86400 s). CORS: only the origins given by
  `--allowed-origin` (the BFF's) may call it from a browser.
- `GET /v1/payment_methods/<id>` (secret key).
- `POST /v1/payment_intents` `{amount, currency, payment_method, metadata?, description?}`
  creates and confirms an intent at once (Stripe's `confirm=true`); `payment_method`
  is a token, never a card number. 200 with the intent (its `payment_method_details`
  give brand and last four, which Stripe puts on the charge) when the card is
  charged; 402 `card_error` with the failed intent when it is declined; 500
  `api_error` for the processing-error card.
- `GET /v1/payment_intents/<id>`, `GET /v1/payment_intents?metadata[order_id]=7&status=…`
- `GET /v1/charges?payment_intent=…&metadata[k]=v&status=…`: every charge attempt;
  successful charges are what a customer pays.
- `POST /v1/refunds` `{payment_intent, amount?, metadata?}`, `GET /v1/refunds[/<id>]`.
- `GET /healthz` (no auth).
- `GET|POST /sandbox/config` `{latency_ms, failure_rate, fail_next}` and
  `GET /sandbox/stats`: knobs and counters for tests (not part of Stripe's API).

Idempotency follows Stripe (https://docs.stripe.com/api/idempotent_requests): a
POST with an `Idempotency-Key` that started executing stores its answer; the same
key with the same body replays it (header `Idempotent-Replayed: true`); the same key
with another body answers 400 `idempotency_error`. Requests that fail validation
or end in a 5xx store nothing, so a retry with the same key executes again. Where
Stripe answers 409 to a request whose key is still executing, the sandbox makes the
second request wait for the first and then replays its answer.

Test cards (as Stripe's, https://docs.stripe.com/testing): tokenize the number, or use
Stripe's fixed test token (reusable, never expires) straight away:

| card | fixed token | outcome of a charge |
| --- | --- | --- |
| 4242424242424242 | pm_card_visa | succeeds |
| 5555555555554444 | pm_card_mastercard | succeeds |
| 4000000000000002 | pm_card_chargeDeclined | 402 (generic_decline) |
| 4000000000009995 | pm_card_chargeDeclinedInsufficientFunds | 402 (insufficient_funds) |
| 4000000000000119 | pm_card_chargeDeclinedProcessingError | 500 processing_error |

Knobs (also from the environment at start), applied to `/v1` POSTs (the calls that
move money; reads always answer): `SANDBOX_PAYMENTS_LATENCY_MS` (each is that slow),
`SANDBOX_PAYMENTS_FAILURE_RATE` (that share answers 500 before doing anything), and
`fail_next` (the next N do). `/sandbox/stats` counts `requests` (every `/v1` call),
`writes` (the POSTs) and `injected_failures`.

Run: `python -m sandbox.payments --port N --data DIR --key-file F
[--publishable-key-file F] [--allowed-origin https://shop.example]...`.

Where each part lives: `routes.py` (the API above as one table: method, path, handler,
which key), `rules.py` (what each call does: tokens, intents, charges, refunds,
idempotency, the knobs), `cards.py` (card checks and the test cards), `journal.py` (the
provider's durable storage), `errors.py` (Stripe's error shape), `server.py` (HTTP
plumbing: keys, CORS, JSON), `cli.py` (the command).
"""
