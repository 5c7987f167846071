"""Referrals (老带新): a code per existing customer, who brought whom, leaderboard and rewards."""
