-- data-only: takes credentials out of download links stored before the link rule (issue 23); no table, column or index changes.
-- src/services/downloads/links.ts stores new links without Prowlarr's `apikey` and answers every link
-- without credential parameters; rows stored before it still hold them at rest. This does the same
-- to those rows, as far as SQL can:
-- 1. torrent_url: every query parameter named as a credential (links.ts, CREDENTIAL_PARAM: apikey,
--    api_key, passkey, pass_key, authkey, auth, torrent_pass, token, secret, password, pk, sid, key;
--    any case) is removed, the others kept byte for byte in their order; a user name and password
--    before the host are removed. QUEUE puts PROWLARR_API_KEY back when it sends a Prowlarr link.
-- 2. magnet_link of a download that is over (completed, abandoned): only xt, dn and xl are kept, as
--    links.ts answers magnets; trackers (tr=) and sources (xs=, as=, ws=) may hold a passkey. A magnet
--    that may still be sent (queued, downloading, failed and retried) keeps its trackers: qBittorrent
--    needs them to find a private torrent's peers, as links.ts keeps them for new rows.
-- Limits of SQL (no URL parser): a parameter name written percent-encoded (`api%6Bey`) is not
-- decoded and stays; a fragment after a removed last parameter goes with it. Neither is a shape
-- Prowlarr or a tracker hands out.
WITH RECURSIVE `parts`(`id`, `base`, `part`, `rest`, `kept`) AS (
  SELECT `id`, substr(`torrent_url`, 1, instr(`torrent_url`, '?') - 1), '', substr(`torrent_url`, instr(`torrent_url`, '?') + 1) || '&', ''
  FROM `downloads` WHERE instr(`torrent_url`, '?') > 0
  UNION ALL
  SELECT `id`, `base`, substr(`rest`, 1, instr(`rest`, '&') - 1), substr(`rest`, instr(`rest`, '&') + 1),
    `kept` || CASE
      WHEN `part` = '' THEN ''
      WHEN lower(CASE WHEN instr(`part`, '=') > 0 THEN substr(`part`, 1, instr(`part`, '=') - 1) ELSE `part` END)
        IN ('apikey', 'api_key', 'passkey', 'pass_key', 'authkey', 'auth', 'torrent_pass', 'token', 'secret', 'password', 'pk', 'sid', 'key') THEN ''
      ELSE '&' || `part`
    END
  FROM `parts` WHERE `part` <> '' OR `rest` <> ''
)
UPDATE `downloads` SET `torrent_url` = (
  SELECT `base` || CASE WHEN `kept` = '' THEN '' ELSE '?' || substr(`kept`, 2) END
  FROM `parts` WHERE `parts`.`id` = `downloads`.`id` AND `part` = '' AND `rest` = ''
)
WHERE `id` IN (SELECT `id` FROM `parts` WHERE `part` = '' AND `rest` = '');--> statement-breakpoint
UPDATE `downloads` SET `torrent_url` = substr(`torrent_url`, 1, instr(`torrent_url`, '://') + 2) || substr(`torrent_url`, instr(`torrent_url`, '://') + 3 + length(rtrim(`authority`, replace(`authority`, '@', ''))))
FROM (
  SELECT `id` AS `with_user`, substr(`after`, 1, CASE WHEN instr(`after`, '/') > 0 THEN instr(`after`, '/') - 1 ELSE length(`after`) END) AS `authority`
  FROM (SELECT `id`, substr(`torrent_url`, instr(`torrent_url`, '://') + 3) AS `after` FROM `downloads` WHERE instr(`torrent_url`, '://') > 0)
)
WHERE `downloads`.`id` = `with_user` AND instr(`authority`, '@') > 0;--> statement-breakpoint
WITH RECURSIVE `parts`(`id`, `part`, `rest`, `kept`) AS (
  SELECT `id`, '', substr(`magnet_link`, instr(`magnet_link`, '?') + 1) || '&', ''
  FROM `downloads` WHERE `status` IN ('completed', 'abandoned') AND lower(substr(`magnet_link`, 1, 8)) = 'magnet:?'
  UNION ALL
  SELECT `id`, substr(`rest`, 1, instr(`rest`, '&') - 1), substr(`rest`, instr(`rest`, '&') + 1),
    `kept` || CASE
      WHEN lower(CASE WHEN instr(`part`, '=') > 0 THEN substr(`part`, 1, instr(`part`, '=') - 1) ELSE `part` END) IN ('xt', 'dn', 'xl') THEN '&' || `part`
      ELSE ''
    END
  FROM `parts` WHERE `part` <> '' OR `rest` <> ''
)
UPDATE `downloads` SET `magnet_link` = (
  SELECT 'magnet:?' || substr(`kept`, 2) FROM `parts` WHERE `parts`.`id` = `downloads`.`id` AND `part` = '' AND `rest` = ''
)
WHERE `id` IN (SELECT `id` FROM `parts` WHERE `part` = '' AND `rest` = '');
