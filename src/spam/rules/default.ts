/// The rule set that ships with Scanwall: written for this product from what spam says and how
/// spamming software writes mail (not taken from SpamAssassin's rules). Scores are small: the
/// Bayesian classifier carries most of the weight once trained; these rules catch what it has not
/// seen and give an untrained node a verdict. An operator's `spam.rulesFile` adds to or overrides
/// them by name.
import type { RuleSpec } from '../rules.js'

export const defaultRules: readonly RuleSpec[] = [
  // Money and offers
  { name: 'BODY_MONEY_OFFER', target: 'body', score: 1.2, phrase: 'make money fast', describe: 'a classic get-rich phrase' },
  { name: 'BODY_EARN_PER_WEEK', target: 'body', score: 1.0, regex: '\\b(?:earn|make)\\s+(?:up\\s+to\\s+)?\\$\\s?\\d[\\d,]*\\s+(?:per|a|every)\\s+(?:day|week|month)', flags: 'i', describe: 'earn $N per week' },
  { name: 'BODY_NO_COST', target: 'body', score: 0.6, words: ['risk-free', 'no obligation', 'no cost', '100% free', 'absolutely free'], describe: 'free, no risk' },
  { name: 'BODY_GUARANTEE', target: 'body', score: 0.5, regex: '\\b(?:100\\s?%|money[- ]back)\\s+guarantee', flags: 'i', describe: 'guarantee claims' },
  { name: 'BODY_CREDIT_DEBT', target: 'body', score: 0.8, regex: '\\b(?:consolidate|eliminate|reduce)\\s+(?:your\\s+)?(?:debt|credit card)', flags: 'i', describe: 'debt relief offers' },
  { name: 'BODY_MORTGAGE_RATE', target: 'body', score: 0.8, regex: '\\b(?:mortgage|refinanc\\w*)\\b.{0,60}\\b(?:rates?|approved|lowest)\\b', flags: 'is', describe: 'mortgage offers' },
  { name: 'BODY_PHARMA', target: 'body', score: 1.5, words: ['viagra', 'cialis', 'levitra', 'vicodin', 'xanax', 'valium', 'phentermine'], describe: 'pharmacy spam' },
  { name: 'BODY_WEIGHT_LOSS', target: 'body', score: 0.8, regex: '\\b(?:lose|losing)\\s+(?:up\\s+to\\s+)?\\d+\\s*(?:lbs|pounds|kg)', flags: 'i', describe: 'weight-loss claims' },
  { name: 'BODY_WORK_FROM_HOME', target: 'body', score: 0.7, regex: '\\b(?:work|working)\\s+(?:from|at)\\s+home\\b', flags: 'i', describe: 'work from home' },
  { name: 'BODY_LOTTERY_WINNER', target: 'body', score: 1.5, regex: '\\b(?:you\\s+(?:have\\s+)?(?:won|been\\s+selected)|winning\\s+(?:number|notification)|claim\\s+your\\s+prize)', flags: 'i', describe: 'lottery and prize notices' },
  { name: 'BODY_ADVANCE_FEE', target: 'body', score: 2.0, regex: '\\b(?:next\\s+of\\s+kin|transfer\\s+of\\s+(?:the\\s+)?(?:sum|fund)|(?:us\\s?)?\\$\\s?\\d{1,3}(?:[,.]\\d{3}){2,}\\s*(?:usd|dollars)?)', flags: 'i', describe: 'advance-fee fraud language' },
  { name: 'BODY_STRICTLY_CONFIDENTIAL', target: 'body', score: 0.6, phrase: 'strictly confidential', describe: 'secrecy plea' },
  // Calls to act and list boilerplate
  { name: 'BODY_CLICK_HERE', target: 'body', score: 0.6, regex: '\\bclick\\s+(?:here|below|this\\s+link)\\b', flags: 'i', describe: 'click here' },
  { name: 'BODY_ACT_NOW', target: 'body', score: 0.8, regex: '\\b(?:act\\s+now|order\\s+(?:now|today)|limited\\s+time\\s+(?:offer|only)|don\'?t\\s+delay|call\\s+(?:now|today)|apply\\s+(?:now|online))\\b', flags: 'i', describe: 'urgency' },
  { name: 'BODY_REMOVE_ME', target: 'body', score: 0.8, regex: '\\b(?:to\\s+(?:be\\s+)?remove(?:d)?\\s+(?:yourself\\s+)?from\\s+(?:this|our|the|future)|reply\\s+with\\s+["\']?remove)', flags: 'i', describe: 'bulk-mail removal instructions' },
  { name: 'BODY_NOT_SPAM_CLAIM', target: 'body', score: 1.5, regex: '\\b(?:this\\s+(?:is\\s+not|isn\'t)\\s+(?:a\\s+)?spam|not\\s+unsolicited|bill\\s+s\\.?\\s*1618|sent\\s+in\\s+compliance)', flags: 'i', describe: 'claims not to be spam' },
  { name: 'BODY_OPT_IN_CLAIM', target: 'body', score: 0.6, regex: '\\byou\\s+(?:have\\s+)?(?:opted|signed\\s+up|subscribed|agreed)\\s+(?:in\\s+)?to\\s+receive', flags: 'i', describe: 'claims the reader asked for it' },
  { name: 'BODY_DEAR_FRIEND', target: 'body', score: 0.7, regex: '^\\s*dear\\s+(?:friend|sir|madam|sir/madam|customer|valued\\s+\\w+|beneficiary)\\b', flags: 'im', describe: 'impersonal greeting' },
  { name: 'BODY_DOLLAR_AMOUNTS', target: 'body', score: 0.4, regex: '(?:\\$\\s?\\d[\\d,]*(?:\\.\\d\\d)?[^$]{1,200}){4}', flags: 's', describe: 'many dollar amounts' },
  { name: 'BODY_EXCLAIM_RUN', target: 'body', score: 0.5, regex: '!{3,}', describe: 'runs of exclamation marks' },
  { name: 'BODY_SHOUTING', score: 0.8, fact: 'body-shouting', describe: 'the body is mostly capitals' },
  { name: 'BODY_PASSWORD_VERIFY', target: 'body', score: 1.0, regex: '\\b(?:verify|confirm|update)\\s+your\\s+(?:account|password|billing|identity)', flags: 'i', describe: 'phishing: verify your account' },
  // Subject
  { name: 'SUBJ_SHOUTING', score: 0.8, fact: 'subject-shouting', describe: 'the subject is mostly capitals' },
  { name: 'SUBJ_MONEY', target: 'subject', score: 0.8, regex: '\\$\\s?\\d|\\bfree\\b|\\bcash\\b|\\bincome\\b', flags: 'i', describe: 'money or free in the subject' },
  { name: 'SUBJ_EXCLAIM', target: 'subject', score: 0.6, regex: '!\\s*$|!!', describe: 'the subject ends in !' },
  { name: 'SUBJ_TRAILING_ID', target: 'subject', score: 0.9, regex: '\\s{3,}[\\w#-]{3,}\\s*$|\\s[#-]?\\d{4,}\\s*$|\\[\\w{5,}\\]\\s*$', describe: 'a random tag after the subject (filter evasion)' },
  { name: 'SUBJ_ADULT', target: 'subject', score: 1.2, words: ['xxx', 'porn', 'sexy', 'nude', 'naked'], describe: 'adult words' },
  { name: 'SUBJ_PERCENT_OFF', target: 'subject', score: 0.7, regex: '\\d{2}\\s?%\\s*(?:off|discount)', flags: 'i', describe: 'NN% off' },
  // Headers
  { name: 'HDR_NO_MESSAGE_ID', score: 0.8, fact: 'missing-message-id', describe: 'no Message-ID' },
  { name: 'HDR_NO_DATE', score: 1.0, fact: 'missing-date', describe: 'no Date' },
  { name: 'HDR_REPLY_TO_OTHER', score: 0.3, fact: 'reply-to-other-domain', describe: 'Reply-To in another domain than From' },
  { name: 'HDR_TO_UNDISCLOSED', target: 'header:to', score: 0.6, regex: 'undisclosed|recipient list suppressed|^\\s*$|friend@', flags: 'i', describe: 'no real To address' },
  { name: 'HDR_FROM_NUMBERS', target: 'from', score: 0.5, regex: '[a-z]+\\d{3,}@', flags: 'i', describe: 'a sender name ending in many digits' },
  { name: 'HDR_FROM_FREEMAIL_BULK', target: 'headers', score: 0.3, regex: '^x-mailer:.*(?:group\\s?mail|mass\\s?mail|bulk|send-?safe|dark\\s?mailer|atlas)', flags: 'im', describe: 'a bulk-mailing program' },
  { name: 'HDR_MSGID_NO_DOMAIN', target: 'header:message-id', score: 0.6, regex: '^<?[^@]*>?$', describe: 'a Message-ID without a domain' },
  { name: 'HDR_PRIORITY_HIGH', target: 'header:x-priority', score: 0.3, regex: '^\\s*1', describe: 'marked urgent' },
  { name: 'HDR_DATE_FAR', target: 'header:date', score: 0.5, regex: '\\b(?:19[0-8]\\d|20[4-9]\\d)\\b', describe: 'a date decades off' },
  // HTML and parts
  { name: 'HTML_ONLY', score: 0.6, fact: 'html-only', describe: 'HTML and no plain text' },
  { name: 'HTML_HIDDEN_TEXT', score: 0.8, fact: 'html-hidden-text', describe: 'HTML hides text from the reader' },
  { name: 'URL_IP_LITERAL', score: 1.0, fact: 'url-ip-literal', describe: 'a link to a numeric address' },
  { name: 'URL_SHORTENER', target: 'urls', score: 0.3, regex: '^https?://(?:bit\\.ly|tinyurl\\.com|goo\\.gl|ow\\.ly|t\\.co)/', flags: 'im', describe: 'a link shortener' },
  { name: 'URL_USERINFO', target: 'urls', score: 1.0, regex: '^https?://[^/\\s]*@', flags: 'im', describe: 'user@ in a link (a disguised host)' },
  { name: 'PART_EXECUTABLE', score: 2.5, fact: 'executable-attachment', describe: 'an executable or script attached' },
  { name: 'PART_NO_TEXT', score: 0.5, fact: 'no-text', describe: 'no text at all' },
]
