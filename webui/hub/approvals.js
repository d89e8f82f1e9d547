// approvals.js - the hub console's approvals (issue 15): the requests
// addressed to the signed-in approver's roles (GET
// /api/v1/admin/case/approvals), each decided once, in this session (POST
// .../approvals/:id/decision).  An account holding only approver roles sees
// this page and nothing else of the console.  The page itself is the one
// the offices have (common/approvals-page.js).
import { api } from './console.js';
import { approvalsPage } from './approvals-page.js';

approvalsPage({
  api,
  base: '/api/v1/admin/case/approvals',
  pills: { pending: 'warn', approved: 'ok', refused: 'bad' },
  heading: q => q.participant_name,
  where: q => ` at ${q.office_name || q.office_id}`,
  noRole: 'You hold no approver role: no request is addressed to you.',
  empty: 'Nothing waiting for you.',
  listClass: 'requests plain',
});
