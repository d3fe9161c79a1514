-- device.browser does not exist: the browser is device.web_info.browser.
SELECT device.browser FROM `events_*`
