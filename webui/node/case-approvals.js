// case-approvals.js - the requests this user made and those their approver
// roles decide (GET /api/v1/case/approvals): a backdated entry (DSS Program
// Manager, WDB Director, EDD) or a change to entered data (DSS WIOA staff).
// An approver approves or refuses (with a reason) in their own session
// (POST /api/v1/case/approvals/:id/decision); the author sees where it
// stands.  The page itself is the hub console's too (common/approvals-page.js).
import { api, el } from './api.js';
import { API } from './case-common.js';
import { approvalsPage } from './approvals-page.js';

approvalsPage({
  api,
  base: `${API}/approvals`,
  pills: { pending: 'due', approved: 'ok', refused: 'overdue' },
  heading: q => el('a', { href: '/case-participant.html?id=' + encodeURIComponent(q.participant_id) }, q.participant_name),
  where: () => '',
  noRole: 'You hold no approver role: you see the requests you made.',
  empty: 'Nothing waiting.',
  listClass: 'requests',
});
